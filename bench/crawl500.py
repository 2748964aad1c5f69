#!/usr/bin/env python3
"""The 500-URL sitemap site of the discovery benchmark (issue 18's target: discovery under
2 s per site for a 500-URL sitemap), written into an agency generation's `sites/` folder so
that the agency fixture server serves it beside the client sites.

usage: bench/crawl500.py AGENCY_DIR OUT_DIR

Writes AGENCY_DIR/sites/www.crawl500.test/ (robots.txt naming a gzipped sitemap of 500
pages of five templates, a home page linking the first 50) and, in OUT_DIR, one scenario
file per crawl setting measured (`crawl500-depth0.toml`: sitemaps only,
`crawl500-depth2.toml`: the defaults' link depth) with their policy. The same shape as
tests/crawl.rs's 500-page test, which asserts the plan; this only times it.
"""
import gzip
import os
import shutil
import sys

agency, out = sys.argv[1], sys.argv[2]
root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
host = os.path.join(agency, "sites", "www.crawl500.test")
kinds = ["product", "category", "blog", "help", "store"]
paths = [f"/{kinds[i % 5]}/{kinds[(i // 5) % 5]}-item-page-{i}" for i in range(500)]


def page(links):
    a = "".join(f'<a href="{l}">x</a>' for l in links)
    return f"<!doctype html><html><body>{a}</body></html>"


def write(path, data):
    f = os.path.join(host, path.lstrip("/"))
    os.makedirs(os.path.dirname(f), exist_ok=True)
    with open(f, "wb") as fh:
        fh.write(data if isinstance(data, bytes) else data.encode())


urls = "".join(f"<url><loc>https://www.crawl500.test{p}</loc></url>" for p in paths)
write("/robots.txt", "User-agent: *\nSitemap: https://www.crawl500.test/sitemap.xml.gz\n")
write("/sitemap.xml.gz", gzip.compress(f"<urlset>{urls}</urlset>".encode(), mtime=0))
write("/index.html", page(paths[:50]))
for p in paths:
    write(f"{p}/index.html", page(["/"]))

os.makedirs(out, exist_ok=True)
shutil.copy(os.path.join(root, "tests/fixtures/crawl/crawl.policy.toml"),
            os.path.join(out, "crawl.policy.toml"))
for depth in (0, 2):
    with open(os.path.join(out, f"crawl500-depth{depth}.toml"), "w") as fh:
        fh.write(f"""# bench/crawl500.py: discovery over a 500-URL sitemap (max_depth = {depth}).
[site]
name = "crawl500-depth{depth}"
base_url = "https://www.crawl500.test/"
pages = ["/"]
first_party_domains = ["crawl500.test"]
policy = "crawl.policy.toml"
crawl = {{ max_depth = {depth} }}

[browser]
args = ["--host-resolver-rules=MAP * 127.0.0.1:${{CONSENTRY_DEMO_PORT:-8443}}, EXCLUDE localhost"]
page_load_timeout = "15s"
""")
