"""The ``smartoa-client`` command: fetch, watch, ack, history, export, renew-token, status, sandbox."""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from smartoa_client import __version__
from smartoa_client.api import ApiError
from smartoa_client.config import Config, ConfigError, ContractConfig, load
from smartoa_client.documents import InvalidDocument, parse_document
from smartoa_client.export import schedule_csv
from smartoa_client.fleet import ContractSession, Received, today
from smartoa_client.status import report
from smartoa_client.store import Store

log = logging.getLogger("smartoa_client")


def out(text: str) -> None:
    print(text, flush=True)  # noqa: T201


def err(text: str) -> None:
    print(f"smartoa-client: {text}", file=sys.stderr, flush=True)  # noqa: T201


def parse_day(text: str) -> date:
    named = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if text in named:
        return today() + timedelta(days=named[text])
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD, today, tomorrow)") from None


def selected(config: Config, args: argparse.Namespace) -> list[ContractConfig]:
    if getattr(args, "contract", None):
        return [config.contract(c) for c in args.contract]
    return list(config.contracts)


def for_each(config: Config, store: Store, contracts: list[ContractConfig], work: Callable) -> int:
    """Run ``work(session)`` for each contract concurrently; 1 if any failed (its error on stderr), else 0."""

    def one(contract: ContractConfig) -> bool:
        session = None
        try:
            session = ContractSession(config, contract, store)
            work(session)
            return True
        except (ApiError, InvalidDocument, ConfigError) as error:
            err(f"{contract.id}: {error}")
            return False
        finally:
            if session is not None:
                session.close()

    with ThreadPoolExecutor(max_workers=min(16, len(contracts)) or 1) as pool:
        results = list(pool.map(one, contracts))
    return 0 if all(results) else 1


def describe(received: Received) -> str:
    c, s = received.consigne, received.state
    stops = (
        ", ".join(f"{p.start_date.strftime('%H:%M')}-{p.end_date.strftime('%H:%M')}" for p in c.stops()) or "no stop"
    )
    ack = f"acknowledged v{s.acknowledged_version}" if s.acknowledged else "NOT acknowledged"
    new = "new" if received.new else "unchanged"
    return f"{c.id} {c.application_date} v{s.version} {new}: {stops}; {ack}; HLAR {s.deadline.isoformat()}"


# --- commands ---------------------------------------------------------------------------------------------------


def cmd_fetch(config: Config, store: Store, args: argparse.Namespace) -> int:
    lock = threading.Lock()
    documents: list[dict] = []

    def work(session: ContractSession) -> None:
        if args.day:
            received = session.read_day(args.day, source="fetch")
        else:
            received = session.read_latest(source="fetch", conditional=False)
        with lock:
            if received is None:
                out(f"{session.id}: nothing published{' for ' + args.day.isoformat() if args.day else ''}")
                return
            documents.append(json.loads(received.receipt.raw))
            if not args.json:
                out(describe(received))

    status = for_each(config, store, selected(config, args), work)
    if args.json:
        out(json.dumps(documents, indent=2, ensure_ascii=False))
    return status


def cmd_history(config: Config, store: Store, args: argparse.Namespace) -> int:
    lock = threading.Lock()
    documents: list[dict] = []

    def work(session: ContractSession) -> None:
        for received in session.read_range(args.start, args.end, source="history"):
            with lock:
                documents.append(json.loads(received.receipt.raw))
                if not args.json:
                    out(describe(received))

    status = for_each(config, store, selected(config, args), work)
    if args.json:
        out(json.dumps(documents, indent=2, ensure_ascii=False))
    return status


def cmd_ack(config: Config, store: Store, args: argparse.Namespace) -> int:
    if not args.all and not args.contract:
        err("name the contract(s) with --contract, or --all")
        return 2

    def work(session: ContractSession) -> None:
        state = session.acknowledge(args.day, args.version)
        out(f"{session.id} {state.application_date} v{state.version} acknowledged at {state.acknowledged_at}")

    return for_each(config, store, selected(config, args), work)


def cmd_export(config: Config, store: Store, args: argparse.Namespace) -> int:
    end = args.end or args.day
    consignes = []
    status = 0
    for contract in selected(config, args):
        day = args.day
        while day <= end:
            receipt = store.latest(contract.id, day)
            if receipt is None or args.refresh:
                session = None
                try:
                    session = ContractSession(config, contract, store)
                    received = session.read_day(day, source="export")
                except (ApiError, InvalidDocument, ConfigError) as error:
                    err(f"{contract.id} {day}: {error}")
                    received, status = None, 1
                finally:
                    if session is not None:
                        session.close()
                receipt = received.receipt if received else None
            if receipt is None:
                err(f"{contract.id} {day}: no consigne known")
                status = 1
            else:
                consignes.append(parse_document(receipt.raw, contract.id, day))
            day += timedelta(days=1)
    text = schedule_csv(consignes, args.step, args.stop_value, args.run_value)
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)
    return status


def write_token_file(path: Path, token: str) -> None:
    """Replace the token file atomically, mode 0600 from its creation."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(token + "\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def cmd_renew_token(config: Config, store: Store, args: argparse.Namespace) -> int:
    if not args.all and not args.contract:
        err("name the contract(s) with --contract, or --all")
        return 2
    lock = threading.Lock()

    def work(session: ContractSession) -> None:
        token, expires = session.client.renew_token()
        store.set_token_expiry(session.id, expires)
        contract = session.contract
        with lock:
            if contract.token_file is not None:
                try:
                    write_token_file(contract.token_file, token)
                except OSError as exc:
                    err(f"{session.id}: could not write {contract.token_file} ({exc}); the new token is: {token}")
                    raise ApiError(0, "write_failed", str(exc)) from exc
                out(f"{session.id}: new token written to {contract.token_file}, expires {expires.isoformat()}")
            else:
                err(f"{session.id}: the old token is revoked; set {contract.token_env} to the new one:")
                out(f"{contract.token_env}={token}")

    return for_each(config, store, selected(config, args), work)


def cmd_status(config: Config, store: Store, args: argparse.Namespace) -> int:
    level, line = report(config, store, datetime.now(UTC))
    out(line)
    return level


def cmd_sandbox(config: Config, store: Store, args: argparse.Namespace) -> int:
    def work(session: ContractSession) -> None:
        answer = session.client.sandbox(args.day)
        out(f"{session.id}: test consigne {answer.get('application_date')} version {answer.get('version')}")

    return for_each(config, store, selected(config, args), work)


def cmd_watch(config: Config, store: Store, args: argparse.Namespace) -> int:
    from smartoa_client.watch import watch

    if args.command:
        config.command = args.command
    if args.no_stream:
        config.stream = False
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    modbus = None
    if args.modbus:
        from smartoa_client.modbus import ModbusOutput, parse_address

        host, port = parse_address(args.modbus)
        modbus = ModbusOutput(config, store, host, port)
        modbus.start()
        err(f"Modbus TCP server on {host}:{port}")
    try:
        return watch(config, store, ack=args.ack or config.ack, stop=stop)
    finally:
        if modbus is not None:
            modbus.stop()


# --- the parser ---------------------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="smartoa-client", description=__doc__)
    p.add_argument("--config", help="the TOML configuration (default ~/.config/smartoa/client.toml)")
    p.add_argument("-v", "--verbose", action="store_true", help="log each call and event on stderr")
    p.add_argument("--version", action="version", version=__version__)
    commands = p.add_subparsers(dest="command_name", required=True)

    def contracts(sub: argparse.ArgumentParser, all_flag: bool = False) -> None:
        sub.add_argument("--contract", action="append", help="a contract id (repeatable; default: all)")
        if all_flag:
            sub.add_argument("--all", action="store_true", help="every contract of the configuration")

    fetch = commands.add_parser("fetch", help="fetch the latest consigne of every contract, concurrently")
    contracts(fetch)
    fetch.add_argument("--day", type=parse_day, help="a given day instead of the latest one")
    fetch.add_argument("--json", action="store_true", help="print the documents as JSON")
    fetch.set_defaults(run=cmd_fetch)

    watch = commands.add_parser("watch", help="follow the event stream (or poll) and process each new version")
    watch.add_argument("--ack", action="store_true", help="acknowledge each version once the command succeeded")
    watch.add_argument("--command", help="run per new version, the document on stdin (overrides the config)")
    watch.add_argument("--no-stream", action="store_true", help="poll (conditional GET) instead of the stream")
    watch.add_argument("--modbus", metavar="HOST:PORT", help="serve the registers over Modbus TCP")
    watch.set_defaults(run=cmd_watch)

    ack = commands.add_parser("ack", help="acknowledge a day's consigne")
    contracts(ack, all_flag=True)
    ack.add_argument("--day", type=parse_day, required=True)
    ack.add_argument("--version", type=int, help="refuse if the current version is not this one")
    ack.set_defaults(run=cmd_ack)

    history = commands.add_parser("history", help="the consignes of a range of days")
    contracts(history)
    history.add_argument("--start", type=parse_day, required=True)
    history.add_argument("--end", type=parse_day, required=True)
    history.add_argument("--json", action="store_true")
    history.set_defaults(run=cmd_history)

    export = commands.add_parser("export", help="a setpoint schedule CSV for a plant controller")
    contracts(export)
    export.add_argument("--day", type=parse_day, default="tomorrow")
    export.add_argument("--end", type=parse_day, help="last day (default: --day)")
    export.add_argument("--step", type=int, choices=(5, 15), default=15, help="minutes per row")
    export.add_argument("--stop-value", default="1", help="setpoint written for a stop step (default 1)")
    export.add_argument("--run-value", default="0", help="setpoint written otherwise (default 0)")
    export.add_argument("--refresh", action="store_true", help="read the days from the server, not the store")
    export.add_argument("--output", help="write the CSV to this file")
    export.set_defaults(run=cmd_export)

    renew = commands.add_parser("renew-token", help="get a new token (the old one is revoked at once)")
    contracts(renew, all_flag=True)
    renew.set_defaults(run=cmd_renew_token)

    status = commands.add_parser("status", help="Nagios-style check: exit 0 ok, 1 warning, 2 critical")
    status.set_defaults(run=cmd_status)

    sandbox = commands.add_parser("sandbox", help="ask for a test consigne (test environment only)")
    contracts(sandbox)
    sandbox.add_argument("--day", type=parse_day)
    sandbox.set_defaults(run=cmd_sandbox)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if not args.verbose:
        logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        config = load(args.config)
        store = Store(config.store)
        return int(args.run(config, store, args))
    except ConfigError as error:
        err(str(error))
        return 3 if args.command_name == "status" else 2


if __name__ == "__main__":
    sys.exit(main())
