"""Client credentials (``client_secret_basic``) issued to PACT partners without dataspace certificates (decision
0029): issued, listed, rotated and revoked alike by the operator API (``/api/v1/pact-clients``) and by
``connector pact-client``. A secret is returned once and stored hashed; each change is in the audit log."""

from __future__ import annotations

from ..storage import peer_credentials
from ..storage.tables import PeerClient
from . import audit, tokens
from .context import NodeContext
from .models import PeerClientCreated, PeerClientRead


def _created(ctx: NodeContext, client_id: str, secret: str, company_id: str) -> PeerClientCreated:
    return PeerClientCreated(
        client_id=client_id,
        client_secret=secret,
        company_id=company_id,
        token_endpoint=f"{ctx.settings.public_url.rstrip('/')}/auth/token",
    )


def client_read(c: PeerClient) -> PeerClientRead:
    return PeerClientRead(
        client_id=c.client_id,
        company_id=c.company_id,
        created_at=c.created_at,
        rotated_at=c.rotated_at,
        revoked=c.revoked,
    )


def issue(ctx: NodeContext, company_id: str) -> PeerClientCreated:
    """New credentials for a partner's company id (checked by the caller: ``PeerClientCreate``)."""
    client_id, secret = tokens.create_client(ctx.session, company_id)
    audit.append(ctx.session, ctx.company_id, "pact-client.created", client_id, company=company_id)
    return _created(ctx, client_id, secret, company_id)


def list_clients(ctx: NodeContext) -> list[PeerClientRead]:
    """Every client issued, revoked ones too, oldest first (never a secret)."""
    return [client_read(c) for c in peer_credentials.all_clients(ctx.session)]


def rotate(ctx: NodeContext, client_id: str) -> PeerClientCreated:
    """A new secret, same client id: the old secret and every access token issued under it are refused from now on.
    NotFound for an unknown client, Conflict for a revoked one."""
    client, secret = tokens.rotate_client(ctx.session, client_id, ctx.now())
    audit.append(ctx.session, ctx.company_id, "pact-client.rotated", client_id, company=client.company_id)
    return _created(ctx, client_id, secret, client.company_id)


def revoke(ctx: NodeContext, client_id: str) -> PeerClientRead:
    """Revoke a client for good: its secret and every access token issued under it are refused from now on.
    NotFound for an unknown client; revoking a revoked client changes nothing but is audited again, as on the API."""
    client = tokens.revoke_client(ctx.session, client_id)
    audit.append(ctx.session, ctx.company_id, "pact-client.revoked", client_id, company=client.company_id)
    return client_read(client)
