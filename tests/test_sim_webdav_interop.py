"""webdavclient3, a real WebDAV client nobody here wrote, against the simulator's HTTP virtual server."""
from __future__ import annotations

import io

import pytest

from simulator import Simulator

webdav3 = pytest.importorskip("webdav3.client")


@pytest.fixture(scope="module")
def sim():
    with Simulator() as s:
        yield s


@pytest.fixture
def client(sim):
    host, port = sim.address("http")
    return webdav3.Client({"webdav_hostname": f"http://{host}:{port}", "webdav_root": "/exchange/alice/",
                           "webdav_login": "alice", "webdav_password": "alice-pw", "webdav_timeout": 10})


def test_list_shows_the_mailbox_folders(client):
    names = client.list()
    assert "Inbox/" in names and "Sent Items/" in names and "Calendar/" in names and "alice/" not in names


def test_mkdir_upload_download_info_copy_move_and_clean(client):
    assert client.mkdir("interop")
    assert client.check("interop/") and client.is_dir("interop/")
    client.upload_to(io.BytesIO(b"hello interop\n"), "interop/hello.txt")
    assert client.check("interop/hello.txt") and not client.is_dir("interop/hello.txt")
    buf = io.BytesIO()
    client.download_from(buf, "interop/hello.txt")
    assert buf.getvalue() == b"hello interop\n"
    info = client.info("interop/hello.txt")
    assert info["size"] == "14" and info["etag"]
    client.copy("interop/hello.txt", "interop/copy.txt")
    client.mkdir("interop/sub")
    client.move("interop/copy.txt", "interop/sub/moved.txt")
    assert sorted(client.list("interop/")) == ["hello.txt", "sub/"]
    assert client.list("interop/sub/") == ["moved.txt"]
    client.set_property("interop/hello.txt", {"namespace": "urn:x-interop:", "name": "mood", "value": "sunny"})
    assert client.get_property("interop/hello.txt", {"namespace": "urn:x-interop:", "name": "mood"}) == "sunny"
    client.clean("interop/sub/moved.txt")
    assert not client.check("interop/sub/moved.txt")
    client.clean("interop/")
    assert not client.check("interop/")


def test_another_users_mailbox_is_refused(sim):
    host, port = sim.address("http")
    bob = webdav3.Client({"webdav_hostname": f"http://{host}:{port}", "webdav_root": "/exchange/alice/",
                          "webdav_login": "bob", "webdav_password": "bob-pw", "webdav_timeout": 10})
    from webdav3.exceptions import WebDavException

    with pytest.raises(WebDavException):
        bob.list()
