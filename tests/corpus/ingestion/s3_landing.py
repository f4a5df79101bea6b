"""Sweep the S3 landing zone: copy new objects into the lake, register, clean up."""

from __future__ import annotations

import boto3

from dagy import flow, get_run_logger, task


@task
def list_new_objects(bucket: str, prefix: str) -> list[str]:
    s3 = boto3.client("s3")
    paginator = s3.get_paginator("list_objects_v2")
    keys: list[str] = []
    for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []) if obj["Size"] > 0)
    return keys


@task(retries=3, retry_delay_seconds=[10, 30, 60], tags=["s3"])
def copy_to_lake(bucket: str, key: str, lake_bucket: str) -> str:
    dest = "landing/" + key.split("/", 1)[-1]
    boto3.client("s3").copy_object(Bucket=lake_bucket, Key=dest,
                                   CopySource={"Bucket": bucket, "Key": key})
    return f"s3://{lake_bucket}/{dest}"


@task
def register_partitions(paths: list[str]) -> int:
    glue = boto3.client("glue")
    for path in paths:
        glue.batch_create_partition(DatabaseName="lake", TableName="landing",
                                    PartitionInputList=[{"Values": [path.rsplit("/", 2)[-2]]}])
    return len(paths)


@task
def cleanup_landing(bucket: str, keys: list[str]) -> None:
    s3 = boto3.client("s3")
    for start in range(0, len(keys), 1000):
        chunk = keys[start:start + 1000]
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in chunk]})


@flow(name="S3 Landing Zone Sweep")
def s3_landing_sweep(bucket: str = "acme-landing", prefix: str = "incoming/",
                     lake_bucket: str = "acme-lake") -> list[str]:
    logger = get_run_logger()
    keys = list_new_objects(bucket, prefix)
    if not keys:
        logger.info("nothing to do")
        return []

    copies = [copy_to_lake.submit(bucket, k, lake_bucket) for k in keys]
    for fut in copies:
        fut.wait()

    registered = register_partitions([c.result() for c in copies])
    cleanup_landing(bucket, keys, wait_for=[registered])
    logger.info("moved %d objects", len(keys))
    return keys
