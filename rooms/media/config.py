"""Janus's and coturn's configuration, generated from the platform's settings
(`python manage.py media_config`): nobody edits their files by hand.

Each of JANUS_SERVERS that is on this machine (a loopback or local address) gets a
folder of its own: its WebSocket API bound to the address of its URL, only the
VideoRoom plugin and the WebSocket transport loaded, the platform's API secret and
admin key required, recordings written under JANUS_RECORDINGS_DIR, and a slice of
JANUS_RTP_PORT_RANGE for its media. coturn gets one file with the shared secret of
its time-limited credentials (TURN REST API), relaying to the Janus servers only.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings

from rooms.media.secrets import janus_admin_key, janus_api_secret, turn_secret

JANUS_LIB = Path("/usr/lib/x86_64-linux-gnu/janus")
# Everything Debian's janus ships but the VideoRoom plugin and the WebSocket transport.
DISABLED_PLUGINS = [
    "libjanus_audiobridge.so",
    "libjanus_duktape.so",
    "libjanus_echotest.so",
    "libjanus_lua.so",
    "libjanus_nosip.so",
    "libjanus_recordplay.so",
    "libjanus_sip.so",
    "libjanus_streaming.so",
    "libjanus_textroom.so",
    "libjanus_videocall.so",
    "libjanus_voicemail.so",
]
DISABLED_TRANSPORTS = [
    "libjanus_http.so",
    "libjanus_mqtt.so",
    "libjanus_nanomsg.so",
    "libjanus_pfunix.so",
    "libjanus_rabbitmq.so",
]


@dataclass(frozen=True)
class JanusServer:
    url: str
    host: str
    port: int
    # The RTP ports of this server, "first-last".
    rtp_ports: str
    folder: Path

    @property
    def config_file(self) -> Path:
        return self.folder / "janus.jcfg"

    def command(self) -> list[str]:
        """The command that runs this server in the foreground."""
        return ["janus", "--configs-folder", str(self.folder), "--config", str(self.config_file)]


def janus_lib() -> Path:
    """Where Debian put Janus's plugins (the multiarch folder of this machine)."""
    for candidate in sorted(Path("/usr/lib").glob("*/janus")):
        if (candidate / "plugins").is_dir():
            return candidate
    return JANUS_LIB


def _port_slices(count: int) -> list[str]:
    first, _sep, last = settings.JANUS_RTP_PORT_RANGE.partition("-")
    first, last = int(first), int(last)
    size = (last - first + 1) // max(count, 1)
    return [f"{first + i * size}-{first + (i + 1) * size - 1}" for i in range(count)]


def janus_servers(root: Path, urls: list[str] | None = None) -> list[JanusServer]:
    """The Janus servers of `urls` (JANUS_SERVERS by default), each with its folder
    under `root`."""
    urls = list(settings.JANUS_SERVERS if urls is None else urls)
    servers = []
    for index, (url, ports) in enumerate(zip(urls, _port_slices(len(urls)), strict=True)):
        parts = urlsplit(url)
        servers.append(
            JanusServer(
                url=url,
                host=parts.hostname or "127.0.0.1",
                port=parts.port or 8188,
                rtp_ports=ports,
                folder=Path(root) / f"janus-{index + 1}",
            )
        )
    return servers


def _quoted(value: str) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def janus_files(server: JanusServer) -> dict[str, str]:
    """The files of one Janus server: name -> text."""
    lib = janus_lib()
    nat = ['\tice_ignore_list = "vmnet"']
    if settings.JANUS_NAT_1_1_MAPPING:
        nat.append(f"\tnat_1_1_mapping = {_quoted(settings.JANUS_NAT_1_1_MAPPING)}")
    if server.host in ("127.0.0.1", "localhost", "::1"):
        # A development machine: browsers on the same machine reach it on loopback.
        nat.append('\tice_enforce_list = "lo"')
    general = "\n".join(
        [
            "general: {",
            f"\tconfigs_folder = {_quoted(server.folder)}",
            f"\tplugins_folder = {_quoted(lib / 'plugins')}",
            f"\ttransports_folder = {_quoted(lib / 'transports')}",
            f"\tevents_folder = {_quoted(lib / 'events')}",
            f"\tloggers_folder = {_quoted(lib / 'loggers')}",
            "\tdebug_level = 3",
            f"\tapi_secret = {_quoted(janus_api_secret())}",
            # The Admin API is not enabled (no transport of it): a random secret all the same.
            f"\tadmin_secret = {_quoted(janus_admin_key() + '-admin')}",
            "\tsession_timeout = 60",
            "\treclaim_session_timeout = 0",
            f"\tserver_name = {_quoted('mediation-' + server.folder.name)}",
            "}",
        ]
    )
    return {
        "janus.jcfg": "\n".join(
            [
                general,
                "media: {",
                f"\trtp_port_range = {_quoted(server.rtp_ports)}",
                "}",
                "nat: {",
                *nat,
                "}",
                "plugins: {",
                f"\tdisable = {_quoted(','.join(DISABLED_PLUGINS))}",
                "}",
                "transports: {",
                f"\tdisable = {_quoted(','.join(DISABLED_TRANSPORTS))}",
                "}",
                "events: {",
                "\tbroadcast = false",
                "}",
                "",
            ]
        ),
        "janus.transport.websockets.jcfg": "\n".join(
            [
                "general: {",
                '\tjson = "compact"',
                "\tws = true",
                f"\tws_port = {server.port}",
                f"\tws_ip = {_quoted(server.host)}",
                "\twss = false",
                "}",
                "admin: {",
                "\tadmin_ws = false",
                "\tadmin_wss = false",
                "}",
                "",
            ]
        ),
        "janus.plugin.videoroom.jcfg": "\n".join(
            [
                "general: {",
                # Rooms are created by the platform only, with this key.
                f"\tadmin_key = {_quoted(janus_admin_key())}",
                "\tlock_rtp_forward = true",
                # Recording is switched with the room's secret only.
                "\tlock_record = true",
                "}",
                "",
            ]
        ),
    }


# Private, shared, link-local and reserved ranges (RFC 1918, 6598, 3927, 4193 ...).
DENIED_PEER_RANGES = [
    ("0.0.0.0", "0.255.255.255"),
    ("10.0.0.0", "10.255.255.255"),
    ("100.64.0.0", "100.127.255.255"),
    ("169.254.0.0", "169.254.255.255"),
    ("172.16.0.0", "172.31.255.255"),
    ("192.0.0.0", "192.0.0.255"),
    ("192.168.0.0", "192.168.255.255"),
    ("198.18.0.0", "198.19.255.255"),
    ("240.0.0.0", "255.255.255.255"),
    ("::", "::ffff:ffff:ffff"),
    ("fc00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
    ("fe80::", "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
]


def turn_allowed_peers() -> list[str]:
    """The addresses coturn may relay to whatever the denied ranges say: each Janus
    server's (its URL's host, resolved now), the public address it announces
    (JANUS_NAT_1_1_MAPPING) and TURN_ALLOWED_PEER_IPS."""
    import socket

    addresses = []
    for url in settings.JANUS_SERVERS:
        host = urlsplit(url).hostname or ""
        try:
            addresses.extend(info[4][0] for info in socket.getaddrinfo(host, None, proto=socket.IPPROTO_UDP))
        except (OSError, UnicodeError):
            continue
    addresses.extend(each.strip() for each in settings.JANUS_NAT_1_1_MAPPING.split(",") if each.strip())
    addresses.extend(settings.TURN_ALLOWED_PEER_IPS)
    return list(dict.fromkeys(addresses))


def turn_files(root: Path, port: int | None = None) -> dict[str, str]:
    """coturn's configuration: time-limited credentials with the shared secret, on
    `port` (TURN_PORT by default)."""
    lines = [
        f"listening-port={port or settings.TURN_PORT}",
        "fingerprint",
        "use-auth-secret",
        f"static-auth-secret={turn_secret()}",
        f"realm={settings.TURN_REALM}",
        "no-cli",
        "no-tls",
        "no-dtls",
        "no-multicast-peers",
        # A relay to the court's Janus servers only: never into the court's internal
        # networks (whoever holds a credential could otherwise send UDP to any host
        # there), the loopback of the TURN machine (coturn's default) or link-local
        # addresses. The Janus servers' own addresses are let through.
        *(f"denied-peer-ip={first}-{last}" for first, last in DENIED_PEER_RANGES),
        *(f"allowed-peer-ip={address}" for address in turn_allowed_peers()),
        "total-quota=400",
        "user-quota=12",
        f"pidfile={Path(root) / 'turnserver.pid'}",
        f"log-file={Path(root) / 'turnserver.log'}",
        "simple-log",
        "",
    ]
    return {"turnserver.conf": "\n".join(lines)}


def write_media_config(root: Path, urls: list[str] | None = None, *, turn_port: int | None = None) -> list[JanusServer]:
    """Write every Janus server's folder and coturn's file under `root`; the servers."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    servers = janus_servers(root, urls)
    for server in servers:
        server.folder.mkdir(parents=True, exist_ok=True)
        for name, text in janus_files(server).items():
            path = server.folder / name
            path.write_text(text)
            path.chmod(0o600)
    Path(settings.JANUS_RECORDINGS_DIR).mkdir(parents=True, exist_ok=True)
    for name, text in turn_files(root, turn_port).items():
        path = root / name
        path.write_text(text)
        path.chmod(0o600)
    return servers
