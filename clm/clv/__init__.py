"""Customer-lifetime-value models fitted by maximum likelihood: sBG, BG/NBD and Gamma-Gamma.

Vectorized numpy/scipy implementations of the published models (no dependency on ``lifetimes``). Each model
module offers ``fit`` (raising ClvFitError when a segment's data cannot support an estimate), the
log-likelihood, and the paper's forecasting formulas; ``simulate`` draws customers from known parameters.

    from clm.clv import bgnbd, gamma_gamma, sbg, ClvFitError
"""

from clm.clv import bgnbd, gamma_gamma, sbg, simulate
from clm.clv.bgnbd import BgnbdFit, BgnbdParams
from clm.clv.errors import ClvFitError
from clm.clv.fitting import MIN_CUSTOMERS, PARAM_BOUNDS
from clm.clv.gamma_gamma import GammaGammaFit, GammaGammaParams
from clm.clv.sbg import SbgFit, SbgParams

__all__ = [
    "MIN_CUSTOMERS",
    "PARAM_BOUNDS",
    "BgnbdFit",
    "BgnbdParams",
    "ClvFitError",
    "GammaGammaFit",
    "GammaGammaParams",
    "SbgFit",
    "SbgParams",
    "bgnbd",
    "gamma_gamma",
    "sbg",
    "simulate",
]
