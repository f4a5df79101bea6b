"""Archive stale S3 objects with an archiver object whose methods are tasks, submitted
concurrently with `archiver.archive.submit(key)`."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import boto3

from dagy import flow, get_run_logger, task


@task
def find_stale_objects(bucket: str, days: int) -> list[str]:
    cutoff = datetime.now(timezone.utc) - timedelta(days=days)
    paginator = boto3.client("s3").get_paginator("list_objects_v2")
    return [
        obj["Key"]
        for page in paginator.paginate(Bucket=bucket)
        for obj in page.get("Contents", [])
        if obj["LastModified"] < cutoff and not obj["Key"].startswith("_archive/")
    ]


class S3Archiver:
    def __init__(self, bucket: str, storage_class: str = "DEEP_ARCHIVE") -> None:
        self.bucket = bucket
        self.storage_class = storage_class

    @task(name="archive-object", retries=2, retry_delay_seconds=10)
    def archive(self, key: str) -> str:
        s3 = boto3.client("s3")
        target = f"_archive/{key}"
        s3.copy_object(Bucket=self.bucket, Key=target, StorageClass=self.storage_class,
                       CopySource={"Bucket": self.bucket, "Key": key})
        s3.delete_object(Bucket=self.bucket, Key=key)
        return target

    @task
    def verify(self, archived_keys: list[str]) -> int:
        s3 = boto3.client("s3")
        for key in archived_keys:
            s3.head_object(Bucket=self.bucket, Key=key)  # raises if missing
        return len(archived_keys)


@flow(name="Archive Stale Objects")
def archive_stale(bucket: str = "acme-data", days: int = 90) -> int:
    logger = get_run_logger()
    keys = find_stale_objects(bucket, days)
    logger.info("%d objects older than %d days", len(keys), days)

    archiver = S3Archiver(bucket)
    futures = [archiver.archive.submit(k) for k in keys]
    return archiver.verify([f.result() for f in futures])
