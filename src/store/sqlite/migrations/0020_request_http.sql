-- consentry storage schema, version 20: a request's headers, status text, MIME type,
-- protocol and DevTools timing (`consentry har`, issue 21 item 4), as one compact JSON
-- text (`model::http::HttpExchange`: `{"rq":[[name,value],...],"rs":[...],"st":"OK",
-- "mt":"text/html","pr":"h2","tm":{...}}`), bounded and redacted before it is written
-- (cookie values hashed, credentials stripped, declared secrets replaced). NULL for
-- requests DevTools said nothing of, and for every request stored before v20.
ALTER TABLE requests ADD COLUMN http TEXT;
