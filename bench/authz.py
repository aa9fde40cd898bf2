"""Authorization decisions per second, in process, with 100,000 role assignments over 3,000 domains.

Uses the service's own Authorizer (pycasbin FastEnforcer + the jurisdiction tree), loaded the way the
service loads it, and asks for targets at community level (the deepest, so the guard walks the most
ancestors). Half the questions are allowed, half refused.

    .venv/bin/python -m bench.authz [--assignments 100000] [--counties 3000] [--decisions 50000]
"""

from __future__ import annotations

import argparse
import random
import resource
import time

from service.core.authz import ROLES, Authorizer
from service.core.settings import PROJECT_ROOT
from service.core.tree import JurisdictionTree, Node


def permissions() -> list[tuple[str, str]]:
    """Every (object, action) the routes ask about: the pairs of policies/policy.csv."""
    pairs = set()
    for line in (PROJECT_ROOT / "policies" / "policy.csv").read_text(encoding="utf-8").splitlines():
        parts = [p.strip() for p in line.split(",")]
        if len(parts) == 5 and parts[0] == "p":
            pairs.add((parts[3], parts[4]))
    return sorted(pairs)


def build(counties: int, assignments: int, seed: int = 7) -> tuple[Authorizer, list[str], list[tuple[str, str]]]:
    rnd = random.Random(seed)
    tree = JurisdictionTree()
    tree.nodes["00"] = Node(code="00", parent_code=None, level="nation", name="全国", population=None,
                            path="/00/", county_code=None)
    communities: list[str] = []
    county_codes: list[str] = []
    for i in range(counties):
        prov = f"{11 + i % 30:02d}"
        city = f"{prov}{(i // 30) % 99 + 1:02d}"
        county = f"{city}{i % 97 + 1:02d}"
        while county in tree.nodes:
            county = f"{city}{rnd.randrange(1, 99):02d}"
        for code, parent, level in ((prov, "00", "province"), (city, prov, "city")):
            if code not in tree.nodes:
                tree.nodes[code] = Node(code=code, parent_code=parent, level=level, name=code, population=None,
                                        path=tree.nodes[parent].path + code + "/", county_code=None)
        tree.nodes[county] = Node(code=county, parent_code=city, level="county", name=county, population=None,
                                  path=tree.nodes[city].path + county + "/", county_code=county)
        county_codes.append(county)
        for s in range(1, 4):
            street = f"{county}{s:03d}"
            tree.nodes[street] = Node(code=street, parent_code=county, level="street", name=street, population=None,
                                      path=tree.nodes[county].path + street + "/", county_code=county)
            for c in range(1, 4):
                community = f"{street}{c:03d}"
                tree.nodes[community] = Node(code=community, parent_code=street, level="community", name=community,
                                             population=10000, path=tree.nodes[street].path + community + "/",
                                             county_code=county)
                communities.append(community)
    authorizer = Authorizer(PROJECT_ROOT / "policies", tree)
    # each subject holds one role at a county; loaded the way Authorizer._rebuild loads them
    rules: list[tuple[str, str]] = []
    for i in range(assignments):
        subject = f"client:{i}"
        domain = rnd.choice(county_codes)
        authorizer._remember(i, (subject, rnd.choice(ROLES), domain))
        rules.append((subject, domain))
    authorizer.enforcer = authorizer._build([list(r) for r in authorizer._by_id.values()])
    return authorizer, communities, rules


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assignments", type=int, default=100_000)
    ap.add_argument("--counties", type=int, default=3_000)
    ap.add_argument("--decisions", type=int, default=50_000)
    args = ap.parse_args()
    t0 = time.perf_counter()
    authorizer, communities, rules = build(args.counties, args.assignments)
    load_s = time.perf_counter() - t0
    rnd = random.Random(11)
    by_county: dict[str, list[str]] = {}
    for c in communities:
        by_county.setdefault(c[:6], []).append(c)
    objects = permissions()
    questions = []
    for i in range(args.decisions):
        subject, domain = rules[rnd.randrange(len(rules))]
        # half inside the subject's county, half anywhere (almost always outside it)
        target = rnd.choice(by_county[domain]) if i % 2 == 0 else rnd.choice(communities)
        obj, act = objects[rnd.randrange(len(objects))]
        questions.append((subject, obj, act, target))
    for q in questions[:2000]:  # warm the per-domain role managers as a running service would be
        authorizer.allowed(*q)
    authorizer.last_seq += 1  # forget the warm-up's answers: measure the enforcer's, not the remembered ones
    t0 = time.perf_counter()
    allowed = sum(authorizer.allowed(*q) for q in questions)
    elapsed = time.perf_counter() - t0
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"permissions={len(objects)} assignments={args.assignments} domains={args.counties} load={load_s:.1f}s "
          f"decisions={args.decisions} allowed={allowed} rate={args.decisions / elapsed:,.0f}/s "
          f"mean={elapsed / args.decisions * 1e6:.1f}us max_rss={rss_mb:.0f}MiB")


if __name__ == "__main__":
    main()
