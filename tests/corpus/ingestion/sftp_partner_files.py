"""Partner file drops over SFTP: download, validate, load or quarantine each file."""

from __future__ import annotations

import csv
import os
import shutil

import paramiko

from dagy import flow, get_run_logger, task

LOCAL_DIR = "/data/partners/incoming"
QUARANTINE_DIR = "/data/partners/quarantine"
EXPECTED_HEADER = ["partner_sku", "qty", "price", "currency", "valid_from"]


def _sftp(host: str) -> paramiko.SFTPClient:
    transport = paramiko.Transport((host, 22))
    transport.connect(username=os.environ["SFTP_USER"],
                      pkey=paramiko.RSAKey.from_private_key_file(os.environ["SFTP_KEY"]))
    return paramiko.SFTPClient.from_transport(transport)


@task
def list_remote_files(host: str, path: str) -> list[str]:
    with _sftp(host) as sftp:
        return [f"{path}/{name}" for name in sftp.listdir(path) if name.endswith(".csv")]


@task(retries=2, retry_delay_seconds=30)
def download_file(host: str, remote_path: str, local_dir: str) -> str:
    local = os.path.join(local_dir, os.path.basename(remote_path))
    with _sftp(host) as sftp:
        sftp.get(remote_path, local)
    return local


@task
def validate_file(local_path: str) -> int:
    with open(local_path, newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        if header != EXPECTED_HEADER:
            raise ValueError(f"unexpected header {header}")
        return sum(1 for _ in reader)


@task(tags=["warehouse"])
def load_partner_file(local_path: str, partner: str) -> str:
    # COPY into partner_prices; omitted here
    return f"{partner}:{os.path.basename(local_path)}"


@task
def quarantine(local_path: str, reason: str) -> str:
    target = shutil.move(local_path, QUARANTINE_DIR)
    with open(f"{target}.reason.txt", "w") as fh:
        fh.write(reason)
    return target


@task
def send_summary(loaded: list[str], quarantined: list[str]) -> None:
    print(f"loaded: {loaded}\nquarantined: {quarantined}")


@flow(name="Partner SFTP Ingest", flow_run_name="sftp-{partner}")
def partner_sftp_ingest(partner: str, host: str, remote_dir: str = "/outbound") -> None:
    logger = get_run_logger()
    files = list_remote_files(host, remote_dir)
    logger.info("%d files waiting on %s", len(files), host)

    loaded, quarantined = [], []
    for remote in files:
        local = download_file(host, remote, LOCAL_DIR)
        state = validate_file(local, return_state=True)
        if state.is_completed():
            loaded.append(load_partner_file(local, partner))
        else:
            quarantined.append(quarantine(local, str(state.message)))

    send_summary(loaded, quarantined)
