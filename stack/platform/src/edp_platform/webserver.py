"""dagster-webserver behind a guard against cross-site requests (the dagster-webserver container's command).

    python -m edp_platform.webserver [-h HOST] [-p PORT] [-w workspace.yaml] [-l PATH_PREFIX] [--read-only]

Dagster's webserver executes GraphQL sent any way: a mutation as a plain GET, a form or text POST, a
websocket opened from any page. So any web page open in the operator's browser can launch, terminate or
delete runs, stop sensors or wipe assets through it (an `<img src=...>` is enough), and binding to 127.0.0.1
does not help against that, nor against DNS rebinding. This process builds Dagster's own ASGI app the way
`dagster-webserver` does (the instance with the webserver's database settings, the workspace, Dagster's
Starlette app, uvicorn) and puts CrossSiteGuard in front of it:

- every request: its Host must be an allowed host (DNS rebinding), and an Origin header, when a browser sends
  one, an allowed origin (`null` is not);
- GraphQL over HTTP: only a POST whose Content-Type is exactly application/json (by its media type, not a
  substring: Dagster's own check accepts `text/plain; x=application/json`). A browser cannot send that
  Content-Type to another site without a CORS preflight, which this server never grants; GraphiQL's page
  (a GET asking for HTML) is served. A GET carrying a query, a form or text POST: 403;
- state-changing requests (any method but GET, HEAD and OPTIONS) and GraphQL also need a Sec-Fetch-Site,
  when the browser sends one, of same-origin or none;
- the websocket (GraphQL subscriptions: run events, compute logs): upgraded only with an allowed Host and
  Origin (a browser always sends Origin there; non-browser clients send none);
- launch mutations (launchRun, launchMultipleRuns, launchPartitionBackfill) carrying a tag under a prefix
  the platform reserves (`edp/`: the lost-worker verdict and the worker's identity) are refused. A
  re-execution may carry them (Dagster's UI copies the parent run's tags): they name the parent run's id,
  and the platform trusts them for that run only.

The Dagster UI's own requests pass: same origin, JSON POSTs, its websocket. So do edp-tui and
dagster-graphql's DagsterGraphQLClient (no Origin, JSON POSTs).

Settings (stack/.env): EDP_WEBSERVER_ALLOWED_HOSTS (host names, optionally name:port; default: the published
address, localhost, 127.0.0.1, [::1]), EDP_WEBSERVER_ALLOWED_ORIGINS (scheme://host:port; default: http://
each default host at the published port, EDP_PUBLISHED_PORT).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

RESERVED_TAG_PREFIXES = ("edp/",)
# Launches whose tags are the caller's own (a re-execution copies its parent's; see the module docstring).
GUARDED_LAUNCHES = frozenset(
    {"launchRun", "launchMultipleRuns", "launchPartitionBackfill", "launchPipelineExecution"}
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_GRAPHQL_BODY = 16 << 20
DEFAULT_HOSTS = ("localhost", "127.0.0.1", "[::1]")
ANY_ADDRESS = {"0.0.0.0", "::", "[::]", ""}

logger = logging.getLogger("edp.webserver")


# ---- settings ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Allowed:
    hosts: frozenset[str]  # "name" (any port) or "name:port", lower case
    origins: frozenset[str]  # "scheme://host[:port]", lower case

    def host_ok(self, host: str) -> bool:
        host = host.strip().lower()
        if host in self.hosts:
            return True
        name = host.rsplit(":", 1)[0] if _has_port(host) else host
        return name in self.hosts

    def origin_ok(self, origin: str) -> bool:
        return origin.strip().lower().rstrip("/") in self.origins


def _split(raw: str) -> list[str]:
    return [part for part in raw.replace(",", " ").split() if part]


def _has_port(host: str) -> bool:
    return host.rsplit("]", 1)[-1].count(":") == 1 if host.startswith("[") else host.count(":") == 1


def allowed_from_env(environ: MutableMapping[str, str] | None = None) -> Allowed:
    env = os.environ if environ is None else environ
    port = (env.get("EDP_PUBLISHED_PORT") or "3000").strip()
    published = (env.get("EDP_PUBLISHED_ADDRESS") or "127.0.0.1").strip()
    names = list(DEFAULT_HOSTS) + ([] if published in ANY_ADDRESS else [published])
    hosts = _split(env.get("EDP_WEBSERVER_ALLOWED_HOSTS", "")) or names
    origins = _split(env.get("EDP_WEBSERVER_ALLOWED_ORIGINS", "")) or [
        f"http://{host}" if _has_port(host) else f"http://{host}:{port}" for host in hosts
    ]
    return Allowed(frozenset(h.lower() for h in hosts), frozenset(o.lower().rstrip("/") for o in origins))


# ---- the guard ---------------------------------------------------------------------------------------------


def media_type(content_type: str) -> str:
    """The essence of a Content-Type value (type/subtype, lower case, parameters dropped)."""
    return content_type.split(";", 1)[0].strip().lower()


def reserved_launch_tags(body: Any) -> list[str]:
    """The reserved tag keys that a GraphQL request's launch mutations carry (literal or in variables)."""
    from graphql import GraphQLError, OperationType, parse
    from graphql.language import FieldNode, OperationDefinitionNode
    from graphql.utilities import value_from_ast_untyped

    found: list[str] = []
    for request in body if isinstance(body, list) else [body]:
        if not isinstance(request, dict) or not isinstance(request.get("query"), str):
            continue
        variables = request.get("variables") if isinstance(request.get("variables"), dict) else {}
        try:
            document = parse(request["query"])
        except GraphQLError:
            continue  # Dagster answers a document that does not parse with its own error
        for definition in document.definitions:
            if not isinstance(definition, OperationDefinitionNode):
                continue
            if definition.operation is not OperationType.MUTATION:
                continue
            for selection in definition.selection_set.selections:
                if not isinstance(selection, FieldNode) or selection.name.value not in GUARDED_LAUNCHES:
                    continue
                for argument in selection.arguments:
                    found += _reserved_tags_in(value_from_ast_untyped(argument.value, variables))
    return found


def _reserved_tags_in(value: Any) -> list[str]:
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "tags" and isinstance(item, list):
                for tag in item:
                    name = tag.get("key") if isinstance(tag, dict) else None
                    if isinstance(name, str) and name.strip().startswith(RESERVED_TAG_PREFIXES):
                        found.append(name)
            else:
                found += _reserved_tags_in(item)
    elif isinstance(value, list):
        for item in value:
            found += _reserved_tags_in(item)
    return found


class CrossSiteGuard:
    """ASGI middleware: see the module's docstring."""

    def __init__(self, app: ASGIApp, allowed: Allowed, path_prefix: str = "") -> None:
        self.app, self.allowed = app, allowed
        self.graphql_path = f"{path_prefix.rstrip('/')}/graphql"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        why = self._refusal(scope, headers)
        if why is None and scope["type"] == "http" and self._is_graphql_post(scope):
            body, receive = await _buffer(receive)
            why = self._launch_refusal(body)
        if why is None:
            await self.app(scope, receive, send)
            return
        logger.warning(
            "refused %s %s from %s: %s",
            scope.get("method", "websocket"),
            scope.get("path"),
            (scope.get("client") or ("?",))[0],
            why,
        )
        if scope["type"] == "websocket":
            # Closing before accepting: the server answers the upgrade with 403.
            await send({"type": "websocket.close", "code": 1008, "reason": why[:120]})
            return
        await _forbidden(send, why)

    def _is_graphql_post(self, scope: Scope) -> bool:
        return scope.get("method") == "POST" and scope.get("path") == self.graphql_path

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> str | None:
        host = headers.get("host", "")
        if not self.allowed.host_ok(host):
            return f"Host {host!r} is not an allowed host (EDP_WEBSERVER_ALLOWED_HOSTS)"
        origin = headers.get("origin")
        if origin is not None and not self.allowed.origin_ok(origin):
            return f"Origin {origin!r} is not an allowed origin (EDP_WEBSERVER_ALLOWED_ORIGINS)"
        if scope["type"] == "websocket":
            return None
        method = scope.get("method", "GET")
        graphql = scope.get("path") == self.graphql_path
        fetch_site = headers.get("sec-fetch-site")
        if (graphql or method not in SAFE_METHODS) and fetch_site not in (None, "same-origin", "none"):
            return f"a {fetch_site} request (Sec-Fetch-Site) may not reach {scope.get('path')}"
        if not graphql:
            return None
        if method == "GET":
            query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
            if "text/html" in headers.get("accept", "") and "query" not in query:
                return None  # GraphiQL's page
            return "GraphQL over GET is refused: send a POST with Content-Type application/json"
        if method == "POST" and media_type(headers.get("content-type", "")) != "application/json":
            return "GraphQL is accepted as a POST with Content-Type application/json only"
        return None

    @staticmethod
    def _launch_refusal(body: bytes | None) -> str | None:
        if body is None:
            return f"GraphQL request larger than {MAX_GRAPHQL_BODY >> 20} MiB"
        try:
            parsed = json.loads(body)
        except ValueError:
            return None  # Dagster answers invalid JSON with its own 400
        reserved = reserved_launch_tags(parsed)
        if reserved:
            return (
                f"tags under a prefix the platform reserves ({', '.join(RESERVED_TAG_PREFIXES)}) cannot be "
                f"set at launch: {', '.join(sorted(set(reserved)))}"
            )
        return None


def _headers(scope: Scope) -> dict[str, str]:
    found: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", []):
        name = raw_name.decode("latin-1").lower()
        # A repeated Host or Origin is suspicious: keep the first one that is refused.
        if name in found and name in ("host", "origin"):
            continue
        found[name] = raw_value.decode("latin-1")
    return found


async def _buffer(receive: Receive) -> tuple[bytes | None, Receive]:
    """The request body (None past MAX_GRAPHQL_BODY), and a receive that replays it to the app."""
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_GRAPHQL_BODY:
            return None, receive
        chunks.append(chunk)
        more = message.get("more_body", False)
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay


async def _forbidden(send: Send, why: str) -> None:
    payload = json.dumps({"error": "forbidden", "reason": why}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 403,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(payload)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": payload})


# ---- the process -------------------------------------------------------------------------------------------


def parse_args(argv: Iterable[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m edp_platform.webserver", description=__doc__.split("\n\n")[0], add_help=False
    )
    parser.add_argument("--help", action="help", help="show this help and exit")
    parser.add_argument("-h", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=3000)
    parser.add_argument("-w", "--workspace", action="append", default=[], help="workspace.yaml (repeatable)")
    parser.add_argument("-l", "--path-prefix", default="")
    parser.add_argument("--read-only", action="store_true")
    parser.add_argument("--log-level", default="warning", help="uvicorn's log level")
    parser.add_argument("--dagster-log-level", default="info")
    return parser.parse_args(None if argv is None else list(argv))


@contextlib.asynccontextmanager
async def _lifespan(_app: Any) -> AsyncIterator[None]:
    # As dagster-webserver's own: a Ctrl-C / SIGTERM cancels the lifespan, which is no error.
    import asyncio

    with contextlib.suppress(asyncio.CancelledError):
        yield


def main(argv: Iterable[str] | None = None) -> int:
    """Serve Dagster's webserver app behind CrossSiteGuard, built as `dagster-webserver` builds it (its
    defaults for the database: statement timeout 15 s, pool recycle 1 h, overflow 20)."""
    import uvicorn
    from dagster import DagsterInstance
    from dagster._core.workspace.context import WorkspaceProcessContext
    from dagster._core.workspace.load_target import WorkspaceFileTarget
    from dagster._utils.interrupts import setup_interrupt_handlers
    from dagster._utils.log import configure_loggers
    from dagster_webserver.app import create_app_from_workspace_process_context
    from dagster_webserver.cli import (
        DEFAULT_DB_STATEMENT_TIMEOUT,
        DEFAULT_POOL_MAX_OVERFLOW,
        DEFAULT_POOL_RECYCLE,
    )
    from dagster_webserver.version import __version__

    args = parse_args(argv)
    allowed = allowed_from_env()
    configure_loggers(log_level=args.dagster_log_level.upper())
    logging.getLogger("edp").setLevel(logging.INFO)
    setup_interrupt_handlers()
    workspace = args.workspace or ["workspace.yaml"]
    with DagsterInstance.get() as instance:
        instance.optimize_for_webserver(
            DEFAULT_DB_STATEMENT_TIMEOUT, DEFAULT_POOL_RECYCLE, DEFAULT_POOL_MAX_OVERFLOW
        )
        with WorkspaceProcessContext(
            instance,
            version=__version__,
            read_only=args.read_only,
            workspace_load_target=WorkspaceFileTarget(paths=workspace),
        ) as context:
            app = create_app_from_workspace_process_context(context, args.path_prefix, lifespan=_lifespan)
            logger.info(
                "Serving dagster-webserver on http://%s:%s%s (allowed hosts: %s; origins: %s)",
                args.host,
                args.port,
                args.path_prefix,
                " ".join(sorted(allowed.hosts)),
                " ".join(sorted(allowed.origins)),
            )
            uvicorn.run(
                CrossSiteGuard(app, allowed, args.path_prefix),
                host=args.host,
                port=args.port,
                log_level=args.log_level,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
