//! The HAR 1.2 JSON Schema of npm's `har-schema@2.0.0` (vendored byte for byte in
//! tests/fixtures/schemas/har-schema-2.0.0, see the README there), compiled as one
//! document: its files reference each other by relative `$id` (`"$ref": "log.json#"`),
//! which are made `#/definitions/log` here, in memory. Shared by the HAR layout's unit
//! tests (`src/report/har/tests.rs`, through `#[path]`) and `tests/har.rs`.

use serde_json::Value;
use std::path::Path;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/schemas/har-schema-2.0.0"
);

/// The files of the package's `lib/`, `har.json` the root.
const PARTS: &[&str] = &[
    "afterRequest",
    "beforeRequest",
    "browser",
    "cache",
    "content",
    "cookie",
    "creator",
    "entry",
    "header",
    "log",
    "page",
    "pageTimings",
    "postData",
    "query",
    "request",
    "response",
    "timings",
];

fn rewrite(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.remove("$id");
            map.remove("$schema");
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                if let Some(name) = r.strip_suffix(".json#") {
                    *r = format!("#/definitions/{name}");
                }
            }
            for x in map.values_mut() {
                rewrite(x);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite),
        _ => {}
    }
}

fn part(name: &str) -> Value {
    let path = Path::new(DIR).join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let mut v: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    rewrite(&mut v);
    v
}

/// The validator of a whole HAR (`{"log": ...}`), draft-06 as the package declares.
pub fn validator() -> jsonschema::Validator {
    let mut root = part("har");
    let mut defs = serde_json::Map::new();
    for name in PARTS {
        defs.insert((*name).to_string(), part(name));
    }
    root["definitions"] = Value::Object(defs);
    root["$schema"] = "http://json-schema.org/draft-06/schema#".into();
    jsonschema::draft6::new(&root).expect("the HAR schema compiles")
}

/// Every schema error of `har`, with where it is.
pub fn errors(har: &Value) -> Vec<String> {
    validator()
        .iter_errors(har)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// What Chromium DevTools' HAR importer needs to open a HAR (docs/reports.md#har): read
/// from `front_end/models/har/HARFormat.ts` (the parser; it throws on a missing object or
/// a number that is NaN) and `Importer.ts` (what it then reads) of ChromeDevTools/
/// devtools-frontend. Each failure names the member.
pub fn devtools_importer_problems(har: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let obj = |v: &Value, at: &str, out: &mut Vec<String>| {
        if !v.is_object() {
            out.push(format!("{at}: not an object"));
        }
    };
    let num = |v: &Value, at: &str, out: &mut Vec<String>| {
        if !v.is_number() {
            out.push(format!("{at}: not a number"));
        }
    };
    let string = |v: &Value, at: &str, out: &mut Vec<String>| {
        if !v.is_string() {
            out.push(format!("{at}: not a string"));
        }
    };
    let date = |v: &Value, at: &str, out: &mut Vec<String>| {
        let ok = v
            .as_str()
            .is_some_and(|s| chrono::DateTime::parse_from_rfc3339(s).is_ok());
        if !ok {
            out.push(format!("{at}: not a date JavaScript's Date parses"));
        }
    };
    let log = &har["log"];
    obj(log, "log", &mut out);
    obj(&log["creator"], "log.creator", &mut out);
    let pages = log["pages"].as_array().cloned().unwrap_or_default();
    let ids: Vec<&str> = log["pages"]
        .as_array()
        .map(|p| p.iter().filter_map(|p| p["id"].as_str()).collect())
        .unwrap_or_default();
    for (i, p) in pages.iter().enumerate() {
        date(
            &p["startedDateTime"],
            &format!("pages[{i}].startedDateTime"),
            &mut out,
        );
        obj(
            &p["pageTimings"],
            &format!("pages[{i}].pageTimings"),
            &mut out,
        );
    }
    let Some(entries) = log["entries"].as_array() else {
        out.push("log.entries: not an array".into());
        return out;
    };
    for (i, e) in entries.iter().enumerate() {
        let at = format!("entries[{i}]");
        date(
            &e["startedDateTime"],
            &format!("{at}.startedDateTime"),
            &mut out,
        );
        num(&e["time"], &format!("{at}.time"), &mut out);
        if let Some(p) = e["pageref"].as_str() {
            if !ids.contains(&p) {
                out.push(format!("{at}.pageref {p}: no such page"));
            }
        }
        let rq = &e["request"];
        obj(rq, &format!("{at}.request"), &mut out);
        string(&rq["method"], &format!("{at}.request.method"), &mut out);
        string(&rq["url"], &format!("{at}.request.url"), &mut out);
        num(
            &rq["headersSize"],
            &format!("{at}.request.headersSize"),
            &mut out,
        );
        num(&rq["bodySize"], &format!("{at}.request.bodySize"), &mut out);
        let rs = &e["response"];
        obj(rs, &format!("{at}.response"), &mut out);
        num(&rs["status"], &format!("{at}.response.status"), &mut out);
        // Importer.ts lower-cases it.
        string(
            &rs["httpVersion"],
            &format!("{at}.response.httpVersion"),
            &mut out,
        );
        num(
            &rs["headersSize"],
            &format!("{at}.response.headersSize"),
            &mut out,
        );
        num(
            &rs["bodySize"],
            &format!("{at}.response.bodySize"),
            &mut out,
        );
        obj(&rs["content"], &format!("{at}.response.content"), &mut out);
        num(
            &rs["content"]["size"],
            &format!("{at}.response.content.size"),
            &mut out,
        );
        for side in ["request", "response"] {
            for (j, h) in e[side]["headers"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                obj(h, &format!("{at}.{side}.headers[{j}]"), &mut out);
            }
        }
        let t = &e["timings"];
        obj(t, &format!("{at}.timings"), &mut out);
        for k in ["send", "wait", "receive"] {
            num(&t[k], &format!("{at}.timings.{k}"), &mut out);
        }
        for k in ["blocked", "dns", "connect", "ssl"] {
            if !t[k].is_null() {
                num(&t[k], &format!("{at}.timings.{k}"), &mut out);
            }
        }
        // `_initiator`, when present, must be an object; `_resourceType` is a string.
        if !e["_initiator"].is_null() {
            obj(&e["_initiator"], &format!("{at}._initiator"), &mut out);
        }
        if !e["_resourceType"].is_null() {
            string(
                &e["_resourceType"],
                &format!("{at}._resourceType"),
                &mut out,
            );
        }
    }
    out
}
