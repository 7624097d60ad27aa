"""A bulk job's status over the API, and waiting for the job to end."""

from tests.support.factories import wait_for


def job_status(client, headers, job_id: str, **params) -> dict:
    response = client.get(f"/api/bulk-nsfw/{job_id}/status", headers=headers, query_string=params)
    assert response.status_code == 200
    return response.get_json()


def wait_for_job(client, headers, job_id: str, timeout: float = 90) -> dict:
    terminal = {"completed", "completed_with_errors", "failed", "cancelled"}
    return wait_for(lambda: (s := job_status(client, headers, job_id))["status"] in terminal and s, timeout)
