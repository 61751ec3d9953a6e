"""CSV drops: malformed rows, types, amounts, timestamps, encodings, missing columns, nested billing."""

from __future__ import annotations

from tests.ingest.conftest import Landing, assert_balanced, only

CONTACTS_HEADER = (
    "contact_id,email,first_name,last_name,company,country,segment,acquisition_channel,"
    "referred_by_contact_id,created_at,updated_at,is_deleted"
)


def test_contacts_csv_rows_lines_and_reasons(landing: Landing) -> None:
    content = "\n".join(
        [
            CONTACTS_HEADER,  # line 1
            "c1,a@x.com,Ann,Lee,Co,US,smb,ads,,2026-01-01T00:00:00Z,2026-01-02T00:00:00+02:00,false",  # 2 ok
            'c2,b@x.com,"Multi',  # 3: quoted newline, one record over lines 3-4, ok
            'Line",Bo,Co,de,Enterprise,ads,c1,2026-01-01 10:00:00,2026-01-02T00:00:00Z,TRUE',  # 4
            "c3,c@x.com,Cy,Li,Co,USA,smb,ads,,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z,maybe",  # 5 bad x2
            "c4,d@x.com,Di,Wu,Co,FR,huge,ads,,1999-12-31T23:59:59Z,2026-10-21T00:00:00Z,0",  # 6 bad x3
            "c5,e@x.com,Ed,Yu,Co,FR,smb,ads,,2026-10-20T22:59:59Z,2026-10-21T01:00:00+02:00,0",  # 7 ok: UTC
            "c6,f@x.com,Fi,Oz,Co,FR,smb,ads",  # 8: too few fields
            "",  # 9 blank: not a record
            ",g@x.com,Gi,Ho,Co,FR,smb,ads,,,2026-01-02T00:00:00Z,0",  # 10: contact_id, created_at missing
            "",  # 11 blank trailing
            "",
        ]
    )
    landing.write("crm", "contacts", "2026-10-20", "contacts.csv", content)
    result = landing.ingest()
    f = only(result)
    # Records: lines 2, 3-4, 5, 6, 7, 8, 10 = 7; loaded c1, c2, c5 = 3; quarantined 5, 6, 8, 10 = 4.
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == ("loaded", 7, 3, 4)
    assert landing.rows("select contact_id, _row_number from raw.crm__contacts order by 2") == [
        ("c1", 2),
        ("c2", 3),
        ("c5", 7),
    ]
    # Values stay as landed (case, offsets); staging normalises.
    assert landing.rows(
        "select country, segment, is_deleted from raw.crm__contacts where contact_id = 'c2'"
    ) == [("de", "Enterprise", "TRUE")]
    reasons = dict(landing.quarantine_lines("contacts.csv"))
    assert set(reasons) == {5, 6, 8, 10}
    # Reasons name the field and the rule, never the value (docs/bad-input.md#reasons).
    assert reasons[5] == "country: not a 2-letter country code; is_deleted: not a boolean"
    assert reasons[6] == (
        "segment: not one of smb, mid_market, enterprise; created_at: before 2000-01-01; "
        "updated_at: after the drop's load date 2026-10-20"
    )
    assert reasons[8] == "malformed CSV record: fewer fields than the header"
    assert reasons[10] == "contact_id: missing value; created_at: missing value"
    # No personal data in the audit table; full text only in the quarantine file.
    assert not landing.rows("select * from audit.quarantine where reason like '%@%'")
    text = (landing.quarantine / "run1" / "crm__contacts.jsonl").read_text()
    assert text.count("\n") == 4 and "c6,f@x.com" in text


def test_unbalanced_quote_spans_lines_and_nothing_vanishes(landing: Landing) -> None:
    content = "\n".join(
        [
            "spend_date,channel,amount,currency",  # 1
            "2026-10-01,ads,100.50,USD",  # 2 ok
            '2026-10-02,"ads,200,USD',  # 3: opens a quote that the next quote (line 6) closes
            "2026-10-03,seo,300,USD",  # 4 swallowed
            "",  # 5 blank inside the span: not counted
            '2026-10-04,"events",400,USD',  # 6 swallowed up to its first quote
            "2026-10-05,email,500,usd",  # 7 ok (lower-case currency)
        ]
    )
    landing.write("crm", "marketing_spend", "2026-10-20", "spend.csv", content + "\n")
    f = only(landing.ingest())
    # rows_read = 2 records loaded + 3 non-blank physical lines of the malformed span (3, 4, 6).
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (5, 2, 3)
    assert [line for line, _ in landing.quarantine_lines("spend.csv")] == [3, 4, 6]
    assert landing.rows("select channel, currency, _row_number from raw.crm__marketing_spend order by 3") == [
        ("ads", "USD", 2),
        ("email", "usd", 7),
    ]


def test_non_utf8_bytes_quarantine_only_their_row(landing: Landing) -> None:
    content = (
        b"response_id,contact_id,score,responded_at\n"
        b"r1,c1,9,2026-10-01T00:00:00Z\n"
        b"r2,c\xff\xfe2,7,2026-10-01T00:00:00Z\n"  # line 3: Latin-1 bytes
        b"r3,c3,11,2026-10-01T00:00:00Z\n"  # line 4: NPS out of 0..10
        b"r4,c4,x,2026-10-01T00:00:00Z\n"  # line 5: wrong type
        b"r5,c5,10,2026-10-01T00:00:00Z\n"
    )
    landing.write("crm", "nps_responses", "2026-10-20", "nps.csv", content)
    f = only(landing.ingest())
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (5, 2, 3)
    assert landing.quarantine_lines("nps.csv") == [
        (3, "malformed CSV record: invalid UTF-8 bytes"),
        (4, "score: not in 0..10"),
        (5, "score: not an integer"),
    ]


def test_deals_amounts_and_currencies(landing: Landing) -> None:
    content = "\n".join(
        [
            "deal_id,contact_id,deal_stage,amount,currency,created_at,closed_at,object,total",  # extras
            "d1,c1,won,1200.00,usd,2026-01-01T00:00:00Z,2026-02-01T00:00:00Z,deal,1",  # ok
            "d2,c1,won,-500,USD,2026-01-01T00:00:00Z,,deal,1",  # negative
            "d3,c1,won,99999999999,EUR,2026-01-01T00:00:00Z,,deal,1",  # absurd
            "d4,c1,open,10,XYZ,2026-01-01T00:00:00Z,,deal,1",  # unknown currency
            "d5,c1,lost,1e3,EUR,2026-01-01T00:00:00Z,,deal,1",  # not a plain number
            "d1,c1,won,1300.00,USD,2026-01-05T00:00:00Z,,deal,1",  # duplicate key: loaded, warned
        ]
    )
    landing.write("crm", "deals", "2026-10-20", "deals.csv", content + "\n")
    f = only(landing.ingest())
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (6, 2, 4)
    assert "2 rows share a primary key" in f.message  # both d1 rows
    assert [r for _, r in landing.quarantine_lines("deals.csv")] == [
        "amount: negative",
        "amount: absurd (more than 10,000,000 in major units)",
        "currency: not a known currency",
        "amount: not a number",
    ]
    columns = [c for (c,) in landing.rows("select column_name from (describe raw.crm__deals)")]
    assert "object" not in columns and "total" not in columns


def test_missing_required_column_quarantines_whole_file(landing: Landing) -> None:
    content = (
        "deal_id,contact_id,amount,currency,created_at\nd1,c1,1,USD,2026-01-01T00:00:00Z\nd2,c1,2,USD,x\n"
    )
    landing.write("crm", "deals", "2026-10-20", "deals.csv", content)
    f = only(landing.ingest())
    # Two records, both counted as quarantined; one quarantine row with no line.
    assert (f.status, f.rows_read, f.rows_loaded, f.rows_quarantined) == ("quarantined_file", 2, 0, 2)
    assert landing.quarantine_lines("deals.csv") == [
        (None, "missing required columns: deal_stage, closed_at")
    ]
    # Nothing of the file reaches raw (the table exists, empty: ingestion creates every raw table).
    assert landing.rows("select count(*) from raw.crm__deals") == [(0,)]


def test_empty_and_header_only_files(landing: Landing) -> None:
    landing.write("crm", "deals", "2026-10-20", "empty.csv", "")
    landing.write("crm", "deals", "2026-10-21", "header_only.csv", "deal_id,contact_id\n\n")
    result = landing.ingest()
    assert [(f.status, f.rows_read) for f in result.files] == [("empty", 0), ("empty", 0)]
    assert landing.rows("select count(*) from audit.load_manifest where status = 'empty'") == [(2,)]
    assert landing.rows("select count(*) from audit.quarantine") == [(0,)]


def test_invoices_csv_with_dotted_header_and_json_lines(landing: Landing) -> None:
    lines_ok = (
        '"[{""id"":""il1"",""type"":""subscription"",""amount"":1000,""currency"":""usd"",'
        '""period"":{""start"":1790000000,""end"":4100000000},""proration"":false,""quantity"":1}]"'
    )
    lines_bad = '"[{""id"":""il2"",""type"":""refund"",""amount"":5}]"'
    content = "\n".join(
        [
            "Lines,ID,customer,subscription,status,currency,created,status_transitions.paid_at,"
            "amount_due,amount_paid,total",
            f"{lines_ok},in1,cus1,sub1,paid,USD,1790000000,1790000100,1000,1000,1000",
            f"{lines_bad},in2,cus1,,paid,USD,1790000000,,5,5,5",
            "not json,in3,cus1,,paid,USD,1790000000,,5,5,5",
        ]
    )
    landing.write("billing", "invoices", "2026-10-20", "invoices.csv", content + "\n")
    f = only(landing.ingest())
    assert (f.rows_read, f.rows_loaded, f.rows_quarantined) == (3, 1, 2)
    assert landing.rows("select id, status_transitions__paid_at from raw.billing__invoices") == [
        ("in1", "1790000100")
    ]
    # A period end in 2099 is forward-looking and valid.
    assert landing.rows(
        "select invoice_id, line_index, amount, period__end from raw.billing__invoice_lines"
    ) == [("in1", 0, "1000", "4100000000")]
    reasons = dict(landing.quarantine_lines("invoices.csv"))
    assert reasons[3] == "lines[0].type: not one of subscription, invoiceitem"
    assert reasons[4] == "lines: not valid JSON"
    assert_balanced(landing.ingest())  # rerun: nothing new
