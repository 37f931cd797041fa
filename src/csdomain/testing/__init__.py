"""Test kit for csdomain users: strategies and the backend conformance kit."""
