#!/usr/bin/env python3
"""scim2-tester against a running Offboard: `check_server` over /scim/v2.

Usage: scim-check.py BASE_URL TOKEN   (BASE_URL ends in /scim/v2)

scim2-tester fills userName with a bare UUID; identity providers send the
user's email address there (and Offboard refuses anything else), so its
value generator gives email addresses for userName and for the enterprise
manager's value. The generator is also imported by name in the PATCH
checkers: it is replaced there too. Fails on any error, and on any skipped
check: everything ServiceProviderConfig claims must be exercised.
"""
import sys
import uuid

from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient

import scim2_tester.checkers.patch_add as patch_add
import scim2_tester.checkers.patch_replace as patch_replace
import scim2_tester.filling as filling
from scim2_tester import Status, check_server

original = filling.generate_random_value


def is_email_attribute(path) -> bool:
    text = str(path).lower()
    if text.endswith("username") or text.endswith("manager.value"):
        return True
    binding = path.resolve()
    if binding is None or binding.target_model is None:
        return False
    model = binding.target_model.__name__.lower()
    return binding.target_field_name == "value" and "manager" in model


def generate_random_value(context, path, mutability=None, required=None):
    value = original(context, path=path, mutability=mutability, required=required)
    if value is not None and isinstance(value, str) and is_email_attribute(path):
        return f"{uuid.uuid4().hex[:16]}@scim-check.example"
    return value


for module in (filling, patch_add, patch_replace):
    module.generate_random_value = generate_random_value


def main() -> int:
    base, token = sys.argv[1], sys.argv[2]
    http = Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30)
    results = check_server(SyncSCIMClient(http))
    counts = {status: 0 for status in Status}
    for result in results:
        counts[result.status] += 1
        if result.status != Status.SUCCESS:
            print(f"{result.status.name}: {result.title}: {result.reason}")
    print(", ".join(f"{status.name.lower()} {n}" for status, n in counts.items() if n))
    bad = sum(n for status, n in counts.items() if status != Status.SUCCESS)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
