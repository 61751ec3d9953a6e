// Opens every page of a built dashboard in headless Chromium (playwright-core, pinned by package-lock.json)
// and reports what each shows: console errors, failed requests, its charts (ECharts instances: series and
// the number of data points, and how many of the canvas's pixels are drawn) and its data tables' rows.
//   node check_pages.mjs BASE_URL SCREENSHOT_DIR PAGE...   (PAGE: a path such as / or /mrr-bridge)
// Environment: CHROMIUM (default /usr/bin/chromium). Prints one JSON object, by page.
import { chromium } from 'playwright-core';
import path from 'node:path';

const [base, shots, ...pages] = process.argv.slice(2);
const browser = await chromium.launch({
	executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
	args: ['--no-sandbox', '--disable-dev-shm-usage']
});
const report = {};
try {
	for (const page of pages) {
		const tab = await browser.newPage({ viewport: { width: 1280, height: 900 } });
		const errors = [];
		tab.on('console', (message) => {
			if (message.type() === 'error') errors.push(message.text());
		});
		tab.on('pageerror', (error) => errors.push(String(error)));
		// A request the page itself cancels (a query answered from another source first) is no error.
		tab.on('requestfailed', (request) => {
			const reason = request.failure()?.errorText ?? '';
			if (reason !== 'net::ERR_ABORTED') errors.push(`request failed: ${request.url()} ${reason}`);
		});
		await tab.goto(base + page, { waitUntil: 'networkidle', timeout: 60000 });
		// Charts draw after their queries ran in DuckDB-Wasm; wait until the count of charts is stable and
		// every chart's canvas is drawn.
		let previous = -1;
		for (let i = 0; i < 40; i++) {
			const count = await tab.evaluate(() => document.querySelectorAll('canvas').length);
			const loading = await tab.evaluate(() => document.querySelectorAll('.animate-pulse').length);
			if (count === previous && loading === 0) break;
			previous = count;
			await tab.waitForTimeout(500);
		}
		await tab.waitForTimeout(1000); // ECharts' own animation (500 ms)
		const shown = await tab.evaluate(() => {
			const instances = Object.values(window[Symbol.for('__evidence-chart-window-debug__')] ?? {});
			const charts = instances
				.filter((chart) => !chart.isDisposed())
				.map((chart) => {
					const option = chart.getOption();
					const canvas = chart.getDom().querySelector('canvas');
					let drawn = 0;
					if (canvas) {
						const context = canvas.getContext('2d');
						const { data } = context.getImageData(0, 0, canvas.width, canvas.height);
						for (let i = 3; i < data.length; i += 4) if (data[i] > 0) drawn++;
					}
					const title = [option.title ?? []].flat().map((t) => t.text).filter(Boolean).join(' ');
					return {
						title,
						drawn_pixels: drawn,
						legend: [option.legend ?? []].flat().some((l) => l.show !== false),
						series: (option.series ?? []).map((s) => ({
							type: s.type,
							name: s.name ?? null,
							points: (s.data ?? []).filter((d) => d !== null && d !== undefined).length,
							color: s.itemStyle?.color ?? null
						}))
					};
				});
			const tables = [...document.querySelectorAll('table')].map((table) => ({
				rows: [...table.querySelectorAll('tr')].filter((tr) => tr.querySelector('td')).length,
				header: [...table.querySelectorAll('th')].map((th) => th.textContent.trim())
			}));
			const bigValues = [...document.querySelectorAll('.big-value, [data-viz="BigValue"]')].length;
			return { title: document.title, charts, tables, big_values: bigValues, text: document.body.innerText };
		});
		await tab.screenshot({ path: path.join(shots, (page.replace(/\//g, '') || 'index') + '.png'), fullPage: true });
		report[page] = { ...shown, errors };
		await tab.close();
	}
} finally {
	await browser.close();
}
console.log(JSON.stringify(report));
