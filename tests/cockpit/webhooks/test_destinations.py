"""Destination safety: only public http(s) addresses unless the operator allows more."""

from __future__ import annotations

import pytest

from cockpit.config import Settings
from cockpit.errors import ValidationFailed
from cockpit.webhooks.destinations import DestinationPolicy, Resolver, is_public


def resolver(table: dict[str, list[str]]) -> Resolver:
    def resolve(host: str, port: int) -> list[str]:
        if host not in table:
            raise OSError("no such host")
        return table[host]

    return resolve


DNS = resolver(
    {
        "hooks.example.com": ["93.184.216.34"],
        "sneaky.example.com": ["93.184.216.34", "10.0.0.5"],
        "internal.example.com": ["192.168.1.20"],
        "meta.example.com": ["169.254.169.254"],
        "v6.example.com": ["2606:4700::6810:85e5"],
        "mapped.example.com": ["::ffff:127.0.0.1"],
        "localhost": ["127.0.0.1", "::1"],
    }
)


def refused(policy: DestinationPolicy, url: str) -> ValidationFailed:
    with pytest.raises(ValidationFailed) as err:
        policy.check(url)
    assert (err.value.code, err.value.param) == ("webhook_destination_refused", "url")
    return err.value


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "https://10.1.2.3/hook",
        "https://172.16.0.1/",
        "https://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data",
        "http://224.0.0.1/",
        "http://0.0.0.0/",
        "http://240.0.0.1/",
        "http://100.64.0.1/",
        "https://internal.example.com/hook",
        "https://meta.example.com/",
        "https://sneaky.example.com/",  # one private answer is enough to refuse
        "https://mapped.example.com/",
        "https://nowhere.example.com/",
    ],
)
def test_private_loopback_and_reserved_targets_are_refused(url: str) -> None:
    refused(DestinationPolicy(resolver=DNS), url)


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/", "file:///etc/passwd", "hooks.example.com/x", "http:///x"]
)
def test_only_http_urls_with_a_host(url: str) -> None:
    refused(DestinationPolicy(resolver=DNS), url)


def test_credentials_in_the_url_are_refused() -> None:
    err = refused(DestinationPolicy(resolver=DNS), "https://u:p@hooks.example.com/")
    assert "credentials" in err.message


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/cockpit",
        "http://93.184.216.34:8443/x",
        "https://v6.example.com/",
        "https://[2606:4700::6810:85e5]/",
    ],
)
def test_public_targets_pass(url: str) -> None:
    assert DestinationPolicy(resolver=DNS).check(url) == url


def test_allowed_hosts_and_allow_private() -> None:
    allowed = DestinationPolicy(allowed_hosts=("127.0.0.1", "LocalHost"), resolver=DNS)
    assert allowed.check("http://127.0.0.1:9000/hook")
    assert allowed.check("http://localhost:9000/hook")
    refused(allowed, "http://10.0.0.1/hook")  # only the hosts listed
    anything = DestinationPolicy(allow_private=True, resolver=DNS)
    assert anything.check("http://10.0.0.1/hook")
    refused(anything, "gopher://10.0.0.1/")  # still http(s) only


def test_settings_read_the_allowed_hosts_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COCKPIT_WEBHOOK_ALLOWED_HOSTS", "127.0.0.1, localhost")
    monkeypatch.setenv("COCKPIT_WEBHOOK_ALLOW_PRIVATE", "false")
    settings = Settings()
    assert settings.webhook_allowed_hosts == ["127.0.0.1", "localhost"]
    assert settings.webhook_allow_private is False


def test_is_public_knows_the_ranges() -> None:
    assert is_public("8.8.8.8") and is_public("2001:4860:4860::8888")
    for address in ("127.0.0.1", "10.0.0.1", "fe80::1%eth0", "fc00::1", "::", "255.255.255.255"):
        assert not is_public(address), address
