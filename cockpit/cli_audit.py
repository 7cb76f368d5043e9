"""The ``cockpit audit`` commands: verify, anchor, seal and export the host's hash-chained audit
log, and rotate its key. They read the data dir / database directly (host-side).

Mounted by :mod:`cockpit.cli` at start-up: only typer at the top, everything else inside the
command that needs it.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from cockpit.cli_resources import audit_log, host_db, load_settings, out
from cockpit.exitcodes import CliFailure, ExitCode

audit_app = typer.Typer(help="The hash-chained audit log (host-side).", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None,
    anchor: Annotated[
        Path | None,
        typer.Option(help="A head saved by `cockpit audit head`: the chain must still hold it."),
    ] = None,
) -> None:
    """Verify hash chains with the audit key; exit 1 if any record was edited or removed."""
    from pydantic import ValidationError
    from rich.markup import escape

    from cockpit.audit import SignedHead
    from cockpit.tenancy.keys import KeyService

    console = out()
    settings = load_settings()
    db = host_db(settings)
    log = audit_log(settings, db)
    head: SignedHead | None = None
    if anchor is not None:
        try:
            head = SignedHead.model_validate_json(anchor.read_text())
        except (OSError, ValidationError) as exc:
            raise CliFailure(
                f"cannot read the anchor {anchor}: {exc}", ExitCode.BAD_INPUT
            ) from None
        tenant = tenant or head.tenant
    tenants = [tenant] if tenant else KeyService(db).list_tenants()
    bad = 0
    for t in tenants:
        r = log.verify(t, anchor=head)
        if r.ok:
            legacy = f" ({r.legacy} unkeyed, sealed)" if r.legacy else ""
            anchored = f", holds the anchor at record {head.seq}" if head else ""
            console.print(f"[green]ok[/]   {t}: {r.records} records{legacy}{anchored}")
        else:
            bad += 1
            where = f" at record {r.at_seq}" if r.at_seq is not None else ""
            console.print(
                f"[red]FAIL[/] {t}: {escape(r.problem or '')}{where}"
                f" ({r.records} verified before it)"
            )
    if bad:
        raise CliFailure(f"{bad} of {len(tenants)} audit chains do not verify")


@audit_app.command("head")
def audit_head(tenant: Annotated[str, typer.Option()]) -> None:
    """Print the chain's signed head (JSON); save it elsewhere and pass it to `verify --anchor`."""
    print(audit_log(load_settings()).head(tenant).model_dump_json())


@audit_app.command("seal")
def audit_seal(tenant: Annotated[str, typer.Option()]) -> None:
    """Append a keyed record, so a chain of unkeyed (pre-key) records is sealed by the key."""
    seq = audit_log(load_settings()).record(
        tenant, kind="audit_sealed", actor="cli", subject=tenant
    )
    out().print(f"{tenant}: sealed at record {seq}")


@audit_app.command("rotate-key")
def audit_rotate_key() -> None:
    """Put a new key first in the generated key file; older keys stay to verify older records."""
    from cockpit.audit.keys import key_file, rotate_key_file

    settings = load_settings()
    if settings.audit_keys is not None:
        raise CliFailure(
            "COCKPIT_AUDIT_KEYS is set: rotate by putting a new kid:secret first",
            ExitCode.BAD_INPUT,
        )
    path = key_file(settings, settings.resolved_database_url)
    out().print(f"new audit key {rotate_key_file(path)} in {path}")


@audit_app.command("export")
def audit_export(tenant: Annotated[str, typer.Option()]) -> None:
    """Write a tenant's chain as JSON lines to stdout."""
    for rec in audit_log(load_settings()).export(tenant):
        sys.stdout.write(json.dumps(rec) + "\n")


__all__ = ["audit_app"]
