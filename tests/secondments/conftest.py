"""Secondment fixtures: request bodies and the demo actors' headers."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from service.core.clock import today

SONGYA = "430121001001"  # 松雅社区, under 星沙街道 (the xingsha-office client's street)
BANCANG = "430121001003"  # 板仓社区, under 星沙街道, already below the staffing standard
XIANGLONG = "430121002001"  # 湘龙社区, under another street


def days(n: int) -> date:
    return today() + timedelta(days=n)


@pytest.fixture
def body() -> Any:
    def make(**overrides: Any) -> dict[str, Any]:
        data: dict[str, Any] = {
            "organ": {"name": "星沙街道办事处", "level": "street"},
            "form": "secondment",
            "home_community_code": SONGYA,
            "workers": ["W21001001-02"],
            "purpose": "街道人口普查数据核对",
            "start_date": days(10).isoformat(),
            "end_date": days(100).isoformat(),
            "worker_consent": True,
            "community_consent": True,
        }
        data.update(overrides)
        return data

    return make


@pytest.fixture
def street(as_client: Any) -> dict[str, str]:
    headers: dict[str, str] = as_client("xingsha-office")
    return headers


@pytest.fixture
def orgdept(as_client: Any) -> dict[str, str]:
    headers: dict[str, str] = as_client("county-orgdept-api")
    return headers
