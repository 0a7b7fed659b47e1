"""Helpers shared by the test suites: real services, isolated per test, and polling waits."""
