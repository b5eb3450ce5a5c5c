#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""genlines.py FILE N: N realistic access/app log lines of ~200 bytes (seeded)."""
import random
import sys

r = random.Random(20261121)
paths = ["/api/v1/license/query", "/api/v1/permit/apply", "/gateway/exchange/push", "/static/app.js",
         "/api/v2/citizen/profile", "/health", "/api/v1/enterprise/credit", "/upload/attachment"]
agents = ["Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0", "okhttp/4.9.3",
          "Apache-HttpClient/4.5.13 (Java/1.8.0_382)", "curl/7.88.1", "python-requests/2.28.1"]
levels = ["INFO"] * 12 + ["WARN"] * 3 + ["ERROR", "DEBUG"]
with open(sys.argv[1], "w") as f:
    for n in range(int(sys.argv[2])):
        line = (f"2026-11-21T08:{n // 60000 % 60:02d}:{n // 1000 % 60:02d}.{n % 1000:03d}Z {r.choice(levels)} "
                f"gw-{r.randint(1, 8)} 10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)} "
                f"\"{r.choice(['GET', 'POST'])} {r.choice(paths)}?id={r.getrandbits(40):x} HTTP/1.1\" "
                f"{r.choice([200] * 20 + [201, 302, 400, 404, 500, 502])} {r.randint(120, 98000)} "
                f"{r.randint(1, 3000)}ms req={r.getrandbits(64):016x} ua=\"{r.choice(agents)}\" "
                f"dept={r.choice(['gongan', 'shebao', 'shichang', 'gongjijin'])} seq={n}")
        f.write(line + "\n")
