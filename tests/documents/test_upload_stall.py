"""A stalled upload gives up its transaction: other users are not locked out."""

from __future__ import annotations

import socket

from conftest import StartPortal
from tests.documents.helpers import CASE_PATH, document_ids


def test_a_stalled_upload_releases_the_database(sqlite_url: str,
                                                start_portal: StartPortal) -> None:
    running = start_portal(sqlite_url, upload_stall_seconds=1.0)
    uploader = running.client()
    uploader.login("ib")
    uploader.page(CASE_PATH)
    before = document_ids(running)
    boundary = "stall-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
            f"{uploader.csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; "
            f"name=\"kind\"\r\n\r\nattachment\r\n--{boundary}\r\nContent-Disposition: "
            f"form-data; name=\"category_behaviour\"\r\n\r\non\r\n--{boundary}\r\n"
            "Content-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n"
            "Content-Type: text/plain\r\n\r\nthe first line of a file that never ends\n")
    host, port = running.base_url.removeprefix("http://").split(":")
    cookies = "; ".join(f"{k}={v}" for k, v in uploader.cookies.items())
    request = (f"POST {CASE_PATH}/documents HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"Origin: {running.base_url}\r\nCookie: {cookies}\r\n"
               f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
               f"Content-Length: 100000\r\n\r\n{head}")
    with socket.create_connection((host, int(port)), timeout=15) as stalled:
        stalled.sendall(request.encode())
        # While the upload waits for bytes that never come, another user works.
        other = running.client()
        other.login("mentor")
        assert other.get("/cases").status_code == 200
        stalled.settimeout(15)
        reply = stalled.recv(65536)  # a hanging server would time out here
        assert reply == b"" or reply.startswith(b"HTTP/1.1 ")
    assert document_ids(running) == before, "nothing of the abandoned upload is stored"
