"""The policy engine: every prohibition written once (policies/prohibitions.toml), one verdict everywhere."""
