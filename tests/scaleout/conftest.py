import pytest

from devstack.cluster import Cluster, cluster_env
from devstack.stack import RedisServer, postgres_url, s3_endpoint


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/scaleout/" in str(item.fspath):
            item.add_marker(pytest.mark.stack)


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """Its own PostgreSQL, S3 and a Redis the tests may stop and start, and a deployment
    over them: two web processes and two feature workers."""
    folder = tmp_path_factory.mktemp("stack")
    redis = RedisServer()
    redis.start()
    try:
        with postgres_url() as database, s3_endpoint() as s3:
            env = cluster_env(database=database, redis=redis.url, s3=s3, extra={
                "FEATURE_FAKE_LOG": str(folder / "extracted.log"),
                "FEATURE_FAKE_GATE": str(folder / "gate"),
                "FEATURE_FAKE_DELAY": "0.05",
                "FEATURE_EXTRACTOR": "tests.features.slow_extractor.SlowFakeExtractor",
                "FEATURE_WARM_UP": "false",
                "FEATURE_BATCH_SIZE": "8",
                "RATE_UPLOADS": "10000/min",
            })
            cluster = Cluster(env=env, logs=folder)
            cluster.set_up()
            cluster.redis, cluster.folder = redis, folder
            try:
                for _ in range(2):
                    cluster.start_web()
                for _ in range(2):
                    cluster.start_worker()
                yield cluster
            finally:
                cluster.stop()
    finally:
        redis.stop()
