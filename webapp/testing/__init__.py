"""What the test suite and the benchmarks both use to run photogate for real: servers (PostgreSQL,
Redis, moto's S3), images made on the fly, decoder bombs, and a logged-in headless Chromium.

The web app and the workers never import it; helpers only tests use stay in tests/support/.
"""
