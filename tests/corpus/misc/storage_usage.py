"""Top buckets by size, for the monthly cost review (imports `dagy` as `dg`)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3

import dagy as dg


@dg.task(retries=1)
def list_buckets() -> list[str]:
    return [b["Name"] for b in boto3.client("s3").list_buckets()["Buckets"]]


@dg.task(retries=2, retry_delay_seconds=5)
def bucket_size(name: str) -> float:
    """Bucket size in GiB, from the daily CloudWatch storage metric."""
    cw = boto3.client("cloudwatch")
    now = datetime.now(timezone.utc)
    points = cw.get_metric_statistics(
        Namespace="AWS/S3", MetricName="BucketSizeBytes", Statistics=["Average"],
        Dimensions=[{"Name": "BucketName", "Value": name},
                    {"Name": "StorageType", "Value": "StandardStorage"}],
        StartTime=now - timedelta(days=2), EndTime=now, Period=86400,
    )["Datapoints"]
    return max((p["Average"] for p in points), default=0.0) / 2**30


@dg.task
def report_sizes(sizes: dict[str, float]) -> str:
    lines = [f"{name:<40} {gib:>10.1f} GiB" for name, gib in sizes.items()]
    return "\n".join(lines)


@dg.flow(name="Storage Usage Report", log_prints=True)
def storage_usage(top: int = 10) -> str:
    logger = dg.get_run_logger()
    names = list_buckets()
    logger.info("%d buckets", len(names))

    sizes = {}
    for n in names:
        sizes[n] = bucket_size(n)

    largest = sorted(sizes.items(), key=lambda kv: kv[1], reverse=True)[:top]
    report = report_sizes(dict(largest))
    print(report)
    return report
