"""Tries each attack of issue 15 on a running stack, black-box over HTTP; says whether it failed.

    .venv/bin/python -m scripts.probe_attacks --base http://127.0.0.1:8000 [--captcha-answer A]

One line per attack: PASS (the attack failed), FAIL (it worked) or INCONCLUSIVE (the stack's state
made the attempt meaningless, e.g. a budget an earlier run spent is still counting). Exit status 1
on any FAIL, 2 on any INCONCLUSIVE, else 0. The victims are the demo persons `make dev` seeds.

Every limit per client address would also throttle the probe itself, so each attack calls from
addresses of its own: random loopback source addresses (all of 127.0.0.0/8 reaches a server on
127.0.0.1). The API trusts X-Forwarded-For from 127.0.0.1 only (SHEBAO_FORWARDED_ALLOW_IPS), so
from those addresses a forged header is the client's own word, as it is for anyone on the internet.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import os
import random
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import httpx

from scripts.seed import DEMO_PERSONS, DemoPerson
from settings import REPO_ROOT, Settings

Verdict = Literal["PASS", "FAIL", "INCONCLUSIVE"]
_DEFAULTS = Settings.model_fields
# The server's limits are its defaults unless the probe is told otherwise.
IDENTITY_BUDGET = int(_DEFAULTS["identity_failures_before_captcha"].default)
PER_IP_PER_MINUTE = int(_DEFAULTS["rate_limit_per_ip_per_minute"].default)
OPERATOR_FAILURES = int(_DEFAULTS["operator_failures_per_address"].default)
QUOTES_PER_TARGET = int(_DEFAULTS["quotes_per_target_per_hour"].default)
STARTS_PER_TARGET = int(_DEFAULTS["starts_per_target_per_hour"].default)
WRONG_NAME = "王某某"
_FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９ｘ")


@dataclass(frozen=True)
class Outcome:
    attack: str
    answered: str
    verdict: Verdict

    def line(self) -> str:
        return f"{self.verdict:<12} {self.attack} -> {self.answered}"


class Inconclusive(Exception):
    """The stack's state makes this attempt prove nothing either way."""


def trio(person: DemoPerson, **changes: str) -> dict[str, str]:
    return {
        "id_type": person.id_type.value,
        "id_number": person.id_number,
        "name": person.name,
        **changes,
    }


def wrong(person: DemoPerson, **changes: str) -> dict[str, str]:
    return trio(person, name=WRONG_NAME, **changes)


def code_of(r: httpx.Response) -> str:
    """`status CODE`, the shape every line reports an answer in."""
    try:
        body = r.json()
    except ValueError:
        return str(r.status_code)
    code = body.get("code") if isinstance(body, dict) else None
    return f"{r.status_code} {code}" if code else str(r.status_code)


class Probe:
    """The attacks, in an order where none spends a budget a later one needs."""

    def __init__(self, base: str, captcha_answer: str | None, operator_token: str | None) -> None:
        self.base = base.rstrip("/")
        self.captcha_answer = captcha_answer
        self.operator_token = operator_token
        host = urlsplit(self.base).hostname or ""
        try:
            self.loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            self.loopback = host == "localhost"
        self.clients: list[httpx.AsyncClient] = []
        self.a, self.b, self.c, self.d = DEMO_PERSONS[:4]

    def client(self) -> httpx.AsyncClient:
        """A client calling from a loopback address of its own (a fresh per-address budget)."""
        local = None
        if self.loopback:
            local = (
                f"127.{random.randint(16, 254)}.{random.randint(0, 255)}.{random.randint(2, 254)}"
            )
        transport = httpx.AsyncHTTPTransport(local_address=local)
        http = httpx.AsyncClient(base_url=self.base, transport=transport, timeout=30)
        self.clients.append(http)
        return http

    @staticmethod
    def forged() -> dict[str, str]:
        return {"X-Forwarded-For": f"203.0.{random.randint(0, 255)}.{random.randint(1, 254)}"}

    async def close(self) -> None:
        for http in self.clients:
            await http.aclose()

    async def sign_in(self, person: DemoPerson) -> dict[str, str]:
        r = await self.client().post("/api/v1/session", json=trio(person))
        if r.status_code != 200:
            raise Inconclusive(f"the attacker {person.name} cannot sign in: {code_of(r)}")
        return {"Authorization": f"Bearer {r.json()['token']}"}

    async def fail_until_captcha(
        self, attempts: list[Callable[[], Awaitable[httpx.Response]]]
    ) -> list[str]:
        """Run the wrong attempts in turn; a captcha asked for at the first means the budget was
        spent before this run (nothing to learn). The codes seen, in order."""
        codes: list[str] = []
        for attempt in attempts:
            codes.append(code_of(await attempt()))
            if codes == ["428 CAPTCHA_REQUIRED"]:
                raise Inconclusive(
                    "the victim's budget was already spent (an earlier run, within "
                    "SHEBAO_IDENTITY_FAILURE_WINDOW_S)"
                )
        return codes

    # --- the attacks -------------------------------------------------------------------------

    async def lookup_shows_no_birth_date(self) -> tuple[str, bool]:
        auth = await self.sign_in(self.d)
        r = await self.client().post("/api/v1/payers/lookup", json=trio(self.a), headers=auth)
        if r.status_code != 200:
            raise Inconclusive(f"lookup answered {code_of(r)}")
        birth = self.a.birth_date
        leaked = [
            shown
            for shown in ("birth_date", birth.isoformat(), birth.strftime("%Y%m%d"))
            if shown in r.text
        ]
        return f"200, fields {sorted(r.json()['person'])}", not leaked

    async def identity_in_records_query(self) -> tuple[str, bool]:
        auth = await self.sign_in(self.d)
        r = await self.client().get("/api/v1/records", params=trio(self.a), headers=auth)
        return code_of(r), code_of(r) == "400 IDENTITY_IN_QUERY"

    async def sign_out_ends_the_token(self) -> tuple[str, bool]:
        auth = await self.sign_in(self.d)
        http = self.client()
        before = await http.get("/api/v1/records", headers=auth)
        out = await http.delete("/api/v1/session", headers=auth)
        after = await http.get("/api/v1/records", headers=auth)
        answered = f"records {code_of(before)}; sign-out {out.status_code}; then {code_of(after)}"
        return answered, (before.status_code, out.status_code, after.status_code) == (
            200,
            204,
            401,
        )

    async def unparsable_json(self) -> tuple[str, bool]:
        http = self.client()
        bodies: dict[str, bytes] = {
            "nested 100000 deep": b"[" * 100_000,
            "cut off": b'{"id_type": ',
            "not UTF-8": b"\xff{",
        }
        answers = []
        for name, body in bodies.items():
            r = await http.post(
                "/api/v1/session", content=body, headers={"Content-Type": "application/json"}
            )
            answers.append((name, code_of(r)))
        shown = "; ".join(f"{name}: {code}" for name, code in answers)
        return shown, all(code == "400 INVALID_JSON" for _, code in answers)

    async def quote_body_for_victim(
        self, http: httpx.AsyncClient, auth: dict[str, str], victim: DemoPerson | None = None
    ) -> Any:
        """A quote request a stranger makes for the victim (this month, pension)."""
        lookup = await http.post("/api/v1/payers/lookup", json=trio(victim or self.a), headers=auth)
        if lookup.status_code != 200:
            raise Inconclusive(f"lookup answered {code_of(lookup)}")
        return {
            "payer_ref": lookup.json()["payer_ref"],
            "insurance": "pension",
            "months": [datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")],
            "back_payment": False,
            "grade": 60,
        }

    async def start_loop_for_another(self) -> tuple[str, bool]:
        """A stranger starts the victim's quote again and again with new Idempotency-Keys.

        Each start may open a real order at the channel, so every contribution opened here is
        cancelled afterwards (the victim's month is free again; the cancelled rows remain).
        """
        auth = await self.sign_in(self.d)
        http = self.client()
        quote = await http.post(
            "/api/v1/quotes", json=await self.quote_body_for_victim(http, auth), headers=auth
        )
        if quote.status_code != 201:
            raise Inconclusive(f"the quote answered {code_of(quote)}")
        codes: list[str] = []
        opened: set[str] = set()
        for _ in range(STARTS_PER_TARGET + 1):
            r = await http.post(
                "/api/v1/contributions",
                json={"quote_id": quote.json()["quote_id"], "channel": "wechat_balance"},
                headers={**auth, "Idempotency-Key": uuid.uuid4().hex},
            )
            codes.append(code_of(r))
            if r.status_code == 201:
                opened.add(r.json()["contribution_id"])
            if r.status_code == 429:
                break
        cancelled = [
            code_of(await http.post(f"/api/v1/contributions/{cid}/cancel", headers=auth))
            for cid in sorted(opened)
        ]
        answered = (
            f"{', '.join(codes)}; {len(opened)} contribution(s) opened, cancelled: {cancelled}"
        )
        # One quote, one live order: the repeated starts answer the live one, never a second.
        return answered, codes[-1] == "429 TOO_MANY_STARTS" and len(opened) <= 1

    async def own_start_comes_first(self) -> tuple[str, bool]:
        """A stranger leaves an unpaid order for the victim's month; the victim's own start
        still goes ahead (the stranger's order is closed first), never 409 MONTH_IN_FLIGHT."""
        victim = self.c
        stranger = await self.sign_in(self.d)
        http = self.client()
        body = await self.quote_body_for_victim(http, stranger, victim)
        quote = await http.post("/api/v1/quotes", json=body, headers=stranger)
        theirs = await http.post(
            "/api/v1/contributions",
            json={"quote_id": quote.json().get("quote_id"), "channel": "wechat_balance"},
            headers={**stranger, "Idempotency-Key": uuid.uuid4().hex},
        )
        if theirs.status_code != 201:
            raise Inconclusive(f"the stranger's start answered {code_of(theirs)}")
        own_auth = await self.sign_in(victim)
        me = self.client()
        own_quote = await me.post(
            "/api/v1/quotes", json={**body, "payer_ref": "me"}, headers=own_auth
        )
        own = await me.post(
            "/api/v1/contributions",
            json={"quote_id": own_quote.json().get("quote_id"), "channel": "wechat_balance"},
            headers={**own_auth, "Idempotency-Key": uuid.uuid4().hex},
        )
        their_id = theirs.json()["contribution_id"]
        status = (await http.get(f"/api/v1/contributions/{their_id}", headers=stranger)).json()
        if own.status_code == 201:
            await me.post(
                f"/api/v1/contributions/{own.json()['contribution_id']}/cancel", headers=own_auth
            )
        answered = (
            f"stranger's start 201; own quote {code_of(own_quote)}, own start {code_of(own)}; "
            f"the stranger's order then {status.get('status')}"
        )
        return answered, own.status_code == 201 and status.get("status") == "CANCELLED"

    async def quote_loop_for_another(self) -> tuple[str, bool]:
        """A stranger quotes for the victim in a loop; the victim's own quote still works."""
        auth = await self.sign_in(self.d)
        http = self.client()
        body = await self.quote_body_for_victim(http, auth)
        codes: list[str] = []
        for _ in range(QUOTES_PER_TARGET + 1):
            codes.append(code_of(await http.post("/api/v1/quotes", json=body, headers=auth)))
            if codes[-1].startswith("429"):
                break
        if codes[0] not in ("201", "429 TOO_MANY_QUOTES"):
            raise Inconclusive(f"the first quote answered {codes[0]}")
        own = {**body, "payer_ref": "me"}
        mine = await self.client().post(
            "/api/v1/quotes", json=own, headers=await self.sign_in(self.a)
        )
        answered = (
            f"{codes.count('201')} quotes 201, then {codes[-1]}; the victim's own: {code_of(mine)}"
        )
        return answered, codes[-1] == "429 TOO_MANY_QUOTES" and mine.status_code == 201

    async def query_string_id_number(self) -> tuple[str, bool]:
        """Each try carries a fresh id_number in the query string (and comes from a fresh address
        with a forged X-Forwarded-For): still one budget, the body's."""

        def attempt(n: int) -> Callable[[], Awaitable[httpx.Response]]:
            return lambda: self.client().post(
                "/api/v1/session",
                params={"id_number": f"52010219800101{n:04d}"},
                json=wrong(self.a),
                headers=self.forged(),
            )

        codes = await self.fail_until_captcha([attempt(n) for n in range(IDENTITY_BUDGET + 1)])
        return ", ".join(codes), codes[-1] == "428 CAPTCHA_REQUIRED"

    async def full_width_digits(self) -> tuple[str, bool]:
        full = self.b.id_number.translate(_FULL_WIDTH)
        lower = self.b.id_number.lower()
        http = self.client()

        def attempt(number: str) -> Callable[[], Awaitable[httpx.Response]]:
            return lambda: http.post("/api/v1/session", json=wrong(self.b, id_number=number))

        spellings = [full] * (IDENTITY_BUDGET - 1) + [lower, self.b.id_number]
        codes = await self.fail_until_captcha([attempt(n) for n in spellings])
        return ", ".join(codes), codes[-1] == "428 CAPTCHA_REQUIRED"

    async def budgets_shared(self) -> tuple[str, bool]:
        """Failures spread over sign-in, lookup and records; then the right trio on each path."""
        auth = await self.sign_in(self.d)
        http = self.client()
        paths = ["/api/v1/session", "/api/v1/payers/lookup", "/api/v1/records/query"]
        spread = [paths[n % 3] for n in range(IDENTITY_BUDGET)]

        def attempt(path: str) -> Callable[[], Awaitable[httpx.Response]]:
            return lambda: http.post(path, json=wrong(self.c), headers=auth)

        codes = await self.fail_until_captcha([attempt(p) for p in spread])
        after = [code_of(await http.post(p, json=trio(self.c), headers=auth)) for p in paths]
        answered = f"failures {', '.join(codes)}; then right trio on each: {', '.join(after)}"
        return answered, all(code == "428 CAPTCHA_REQUIRED" for code in after)

    async def lockout(self) -> tuple[str, bool]:
        """Strangers keep sending the victim's number; the victim still gets in (captcha)."""
        for _ in range(IDENTITY_BUDGET + 1):
            await self.client().post("/api/v1/session", json=wrong(self.a))
        me = self.client()
        first = code_of(await me.post("/api/v1/session", json=trio(self.a)))
        captcha = await me.get("/api/v1/captcha")
        if captcha.status_code != 200:
            return f"right trio {first}; captcha {code_of(captcha)}", False
        bad = await me.post(
            "/api/v1/session",
            json={
                **trio(self.a),
                "captcha_id": captcha.json()["captcha_id"],
                "captcha_answer": "0",
            },
        )
        steps = [f"right trio {first}", f"wrong captcha answer {code_of(bad)}"]
        ok = first == "428 CAPTCHA_REQUIRED" and code_of(bad) == "422 CAPTCHA_INVALID"
        if self.captcha_answer is None:
            steps.append("solved captcha not tried (no --captcha-answer: the image is for people)")
            return "; ".join(steps), ok
        solved = {"captcha_id": "", "captcha_answer": self.captcha_answer}
        for who, body in (("the victim", trio(self.a)), ("an attacker", wrong(self.a))):
            http = self.client()
            issued = await http.get("/api/v1/captcha")
            solved["captcha_id"] = issued.json().get("captcha_id", "")
            r = await http.post("/api/v1/session", json={**body, **solved})
            steps.append(f"{who} with a solved captcha {code_of(r)}")
            ok = ok and r.status_code == (200 if who == "the victim" else 401)
        return "; ".join(steps), ok

    async def forged_forwarded_for(self) -> tuple[str, bool]:
        """From one untrusted address, each sign-in with another forged X-Forwarded-For."""
        if not self.loopback:
            raise Inconclusive("needs a loopback --base (source addresses of its own)")
        http = self.client()
        codes: list[str] = []
        for _ in range(PER_IP_PER_MINUTE + 1):
            body = {"id_type": "passport", "id_number": f"E{random.randint(0, 10**8):08d}"}
            r = await http.post(
                "/api/v1/session", json={**body, "name": "张三"}, headers=self.forged()
            )
            codes.append(code_of(r))
            if r.status_code == 429:
                break
        answered = f"{len(codes) - 1} answered {sorted(set(codes[:-1]))}, then {codes[-1]}"
        return answered, codes[-1] == "429 RATE_LIMITED"

    async def operator_guessing(self) -> tuple[str, bool]:
        http = self.client()
        path = "/api/v1/operator/reconciliations"
        codes: list[str] = []
        for _ in range(OPERATOR_FAILURES + 1):
            r = await http.get(path, headers={"Authorization": f"Bearer guess-{uuid.uuid4().hex}"})
            codes.append(code_of(r))
            if r.status_code == 429:
                break
        answered = f"{len(codes) - 1} guesses {sorted(set(codes[:-1]))}, then {codes[-1]}"
        ok = codes[-1] == "429 OPERATOR_THROTTLED"
        if self.operator_token:
            real = await self.client().get(
                path, headers={"Authorization": f"Bearer {self.operator_token}"}
            )
            answered += f"; the operator from another address {code_of(real)}"
            ok = ok and real.status_code == 200
        return answered, ok


# (attack, the probe's method), in the order they run: nothing spends a budget a later one needs.
ATTACKS: list[tuple[str, Callable[[Probe], Awaitable[tuple[str, bool]]]]] = [
    ("lookup shows another person's birth date", Probe.lookup_shows_no_birth_date),
    ("another person's identity in GET /records query", Probe.identity_in_records_query),
    ("a signed-out token still works", Probe.sign_out_ends_the_token),
    ("deep/cut-off/non-UTF-8 JSON answers 500", Probe.unparsable_json),
    ("a stranger starts a person's quote in a loop", Probe.start_loop_for_another),
    ("a stranger's unpaid order blocks the person's own start", Probe.own_start_comes_first),
    ("a stranger quotes for a person in a loop", Probe.quote_loop_for_another),
    ("POST /session?id_number=<random>: a fresh budget per try", Probe.query_string_id_number),
    ("full-width digits / lower-case x: another budget", Probe.full_width_digits),
    ("sign-in, lookup and records: separate budgets", Probe.budgets_shared),
    ("strangers lock a person out", Probe.lockout),
    ("forged X-Forwarded-For: a fresh per-address budget", Probe.forged_forwarded_for),
    ("guessing operator tokens", Probe.operator_guessing),
]


def production_refusal(env_extra: dict[str, str] | None = None) -> Outcome:
    """`SHEBAO_ENV=production python -m api` with make dev's settings must exit, listing them."""
    from scripts.devstack import DEV_DEFAULTS

    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEBAO_")}
    env.update(DEV_DEFAULTS)
    # A port nobody uses, should it (wrongly) start serving.
    env.update({"SHEBAO_ENV": "production", "SHEBAO_API_PORT": "1", **(env_extra or {})})
    attack = "SHEBAO_ENV=production python -m api with make dev's settings"
    try:
        done = subprocess.run(
            [sys.executable, "-m", "api"],
            cwd=REPO_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    except subprocess.TimeoutExpired:
        return Outcome(attack, "still running after 120 s", "FAIL")
    problems = [line for line in done.stderr.splitlines() if line.startswith("- SHEBAO_")]
    names = ", ".join(line.split()[1].removeprefix("SHEBAO_") for line in problems)
    answered = f"exit {done.returncode}, {len(problems)} problems listed: {names}"
    refused = done.returncode != 0 and "refusing to start in production" in done.stderr
    return Outcome(attack, answered, "PASS" if refused and problems else "FAIL")


async def run(
    base: str,
    *,
    captcha_answer: str | None = None,
    operator_token: str | None = None,
    production: bool = True,
) -> list[Outcome]:
    probe = Probe(base, captcha_answer, operator_token)
    outcomes: list[Outcome] = []
    try:
        for attack, method in ATTACKS:
            try:
                answered, held = await method(probe)
            except Inconclusive as why:
                outcomes.append(Outcome(attack, str(why), "INCONCLUSIVE"))
            else:
                outcomes.append(Outcome(attack, answered, "PASS" if held else "FAIL"))
            print(outcomes[-1].line(), flush=True)
    finally:
        await probe.close()
    if production:
        outcomes.append(await asyncio.to_thread(production_refusal))
        print(outcomes[-1].line(), flush=True)
    return outcomes


def exit_status(outcomes: list[Outcome]) -> int:
    verdicts = {o.verdict for o in outcomes}
    return 1 if "FAIL" in verdicts else 2 if "INCONCLUSIVE" in verdicts else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", required=True, help="the API, e.g. http://127.0.0.1:8000")
    parser.add_argument(
        "--captcha-answer", help="the stack's SHEBAO_CAPTCHA_BYPASS, to finish the lockout probe"
    )
    parser.add_argument(
        "--operator-token", help="the real token: checks the throttle is per address"
    )
    parser.add_argument(
        "--no-production", action="store_true", help="skip starting the API in production mode"
    )
    args = parser.parse_args(argv)
    print(f"probing {args.base} at {datetime.now(ZoneInfo('UTC')):%Y-%m-%d %H:%M} UTC", flush=True)
    outcomes = asyncio.run(
        run(
            args.base,
            captcha_answer=args.captcha_answer,
            operator_token=args.operator_token,
            production=not args.no_production,
        )
    )
    status = exit_status(outcomes)
    counts = {v: sum(o.verdict == v for o in outcomes) for v in ("PASS", "FAIL", "INCONCLUSIVE")}
    print(", ".join(f"{n} {v}" for v, n in counts.items()), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
