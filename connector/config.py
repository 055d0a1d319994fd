"""One Settings object per node, passed to ``create_app``; nothing reads module globals."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class OuranosLogin(BaseModel):
    """What our operator holds on an Ouranos platform: the application's API key and the operator account's login."""

    api_key: SecretStr
    login: str
    password: SecretStr


class CatenaxSettings(BaseModel):
    """Catena-X (CX-0136 PCF exchange) settings, ``CONNECTOR_CATENAX__<NAME>``; see docs/catena-x.md."""

    bpnl: str | None = Field(None, pattern=r"^BPNL[0-9A-Z]{12}$", description="this company's Business Partner Number")
    plant_bpns: dict[str, str] = Field(
        default_factory=dict, description="a BPNS (site number) per plant name of our products"
    )
    api_key: SecretStr | None = Field(
        None,
        description="the proxy secret our EDC data plane sends to the PCF API (the asset data address's "
        "authKey/authCode); unset, the PCF API refuses every call",
    )
    api_key_header: str = Field("X-Api-Key", description="the header it comes in (the data address's authKey)")
    data_model_version: str = Field("9.0.0", description="io.catenax.pcf version we send when none is asked for")
    allocation_waste_incineration: str = Field(
        "cut-off", description="io.catenax.pcf allocationWasteIncineration (a required member our data lacks)"
    )
    edc_management_url: str | None = Field(None, description="our own Tractus-X EDC Management API base URL")
    edc_api_key: SecretStr | None = Field(None, description="its X-Api-Key")
    discovery: str = Field(
        "partner",
        pattern=r"^(partner|edc)$",
        description="where a partner's connector address comes from: its node URL (partner), or the EDC's "
        "connector discovery from its BPNL (edc)",
    )
    dsp_protocol: str = "dataspace-protocol-http"
    edr_wait: float = Field(30.0, gt=0, description="seconds to wait for a negotiated EDR")


class Settings(BaseSettings):
    """Node settings; every field can be set as ``CONNECTOR_<NAME>`` (nested with ``__``)."""

    model_config = SettingsConfigDict(env_prefix="CONNECTOR_", env_nested_delimiter="__", extra="ignore")

    company_id: str = Field("urn:pact:example.com:company:example", pattern=r"^urn:")
    company_name: str = "Example Company"
    node_name: str = "node"
    public_url: str = "http://127.0.0.1:8000"
    data_dir: Path = Path(".connector")
    database_url: str | None = None
    listen_host: str = "127.0.0.1"
    listen_port: int = 8000
    serve_workers: int = Field(
        1,
        ge=1,
        le=64,
        description="worker processes `connector serve` runs (its --workers): more than one needs PostgreSQL "
        '(docs/deployment-guide.md, "Several worker processes")',
    )

    max_body_bytes: int = Field(1_048_576, description="request body limit of every route but the two below")
    max_event_bytes: int = Field(
        64 * 1_048_576,
        description="request body limit of POST /3/events and POST /peer/v1/certifications: their bodies carry the "
        "nested sealed evidence of the whole chain below the sender, which grows with its depth",
    )
    page_size_max: int = 500
    pact_read_cache_ttl: float = Field(
        5.0,
        ge=0,
        description="seconds a rendered PACT answer (GET /3/footprints[/{id}]) may be served from memory; writes made "
        "through this process invalidate it at once, so this bounds how long a write by another process on the same "
        "database (the CLI, another worker) can go unseen: a revoked grant, a deprecated footprint. 0 disables it",
    )
    rounding_places: int = 12

    # Ouranos data-transport API (connector/protocols/ouranos, docs/ouranos.md)
    corporate_number: str | None = Field(
        None,
        pattern=r"^[0-9A-Za-z]{1,20}$",
        description="the company's corporate number (Japan: 13 digits), its Ouranos openOperatorId; the Ouranos "
        "data-transport API (/api/v1/datatransport, /api/v1/authInfo) answers only when it is set",
    )
    company_address: str = Field("", max_length=256, description="the company's address (Ouranos operatorAddress)")
    partner_corporate_numbers: dict[str, str] = Field(
        default_factory=dict,
        description="partner company id -> its corporate number, shown as its Ouranos openOperatorId",
    )
    ouranos_platforms: dict[str, OuranosLogin] = Field(
        default_factory=dict,
        description="Ouranos platforms this node reaches partners through, keyed by the platform's base URL (a "
        "partner's node URL when its protocol is ouranos): {api_key, login, password} (docs/ouranos.md)",
    )
    ouranos_poll_interval: float = Field(
        5.0, gt=0, description="seconds between two polls of each Ouranos platform (status, tradeResponse)"
    )
    ouranos_poll_max_delay: float = Field(
        300.0, gt=0, description="longest wait between polls of a platform that keeps failing (doubling back-off)"
    )
    hold_unmatched_requests: bool = Field(
        False,
        description="an incoming request naming no product of ours waits for the operator to link one (Ouranos: "
        "PUT tradeResponse) instead of being rejected at once",
    )

    # identity and trust (paths to PEM files); empty in a bare single-node setup
    cert_file: Path | None = None
    key_file: Path | None = None
    chain_files: list[Path] = Field(default_factory=list)
    trust_anchor_files: list[Path] = Field(default_factory=list)
    crl_files: list[Path] = Field(default_factory=list)
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    allow_insecure_http: bool = False
    allow_private_network_targets: bool = Field(
        False,
        description="let the node call partner, verifier and token URLs on loopback, link-local or private "
        "addresses (a dataspace on one machine or one LAN: the demo, the tests); off, only public addresses are called",
    )
    insecure_dev: bool = Field(
        False,
        description="set by `connector serve --insecure-dev` only (serve ignores the environment's value): "
        "started without a signing identity or TLS; /health says so",
    )
    clock_skew: timedelta = timedelta(minutes=5)
    access_token_ttl: timedelta = timedelta(minutes=10)
    token_secret: SecretStr | None = Field(
        None,
        min_length=32,  # an HMAC key: an empty or short one would be guessed, and "" used to mean "random" silently
        description="HMAC key of PACT access tokens and console session cookies, at least 32 characters; set the "
        "same value on every process of a node (random if unset: one per `connector serve`, shared by its --workers)",
    )
    outgoing_basic_credentials: dict[str, tuple[str, str]] = Field(
        default_factory=dict,
        description="client_secret_basic credentials (client id, secret) for PACT hosts without dataspace certificates,"
        " keyed by base URL",
    )
    attestation_validity: timedelta = timedelta(days=365)

    catenax: CatenaxSettings = Field(default_factory=CatenaxSettings)

    # operator accounts (docs/security-model.md, "Operator accounts")
    user_access_token_ttl: timedelta = Field(timedelta(minutes=15), description="lifetime of a user's access token")
    user_refresh_token_ttl: timedelta = Field(
        timedelta(hours=12), description="lifetime of a user's refresh token (rotated on every use)"
    )
    login_max_failures: int = Field(5, ge=1, description="failed logins in a row that lock an account")
    login_lockout: timedelta = Field(timedelta(minutes=15), description="how long a locked account stays locked")
    password_min_length: int = Field(12, ge=8)
    login_throttle_per_address: int = Field(
        20, ge=1, description="failed logins from one client address, within login_throttle_window, before 429"
    )
    login_throttle_per_login: int = Field(
        10,
        ge=1,
        description="failed logins for one login name (known or not), within login_throttle_window, before 429",
    )
    login_throttle_window: timedelta = Field(
        timedelta(minutes=15), description="how long failed logins count towards the per-address and per-login limits"
    )
    login_throttle_entries: int = Field(
        10_000, ge=100, description="addresses and logins remembered at most (the oldest are forgotten first)"
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses or networks of reverse proxies whose X-Forwarded-For names the client (empty: the "
        "connection's address is the client's, and X-Forwarded-For is ignored)",
    )

    # outbox
    outbox_give_up_after: timedelta = timedelta(hours=72)
    outbox_base_delay: float = 0.5
    outbox_max_delay: float = 300.0
    run_workers: bool = True

    # browser console (docs/console.md)
    console_idle_timeout: timedelta = Field(
        timedelta(minutes=30), description="a console session unused this long is logged out"
    )
    console_reports_kept: str = Field(
        "all",
        pattern=r"^(all|[1-9][0-9]{0,8}d?)$",
        description="the console's verification reports kept in the database: all, the newest N (e.g. 1000), or "
        "those of the last N days (e.g. 3650d)",
    )

    @model_validator(mode="after")
    def _default_database(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'connector.sqlite').as_posix()}"
        return self

    @property
    def is_sqlite(self) -> bool:
        return str(self.database_url).startswith("sqlite")
