"""A snapshot opened for searching asks the operating system to read its files ahead: the
faiss file always, the vectors' file where it takes at most half the memory available."""

from search.index import snapshot


def test_the_vectors_file_is_read_ahead_only_where_half_the_memory_holds_it(tmp_path,
                                                                             monkeypatch):
    index, vectors = tmp_path / "snapshot.faiss", tmp_path / "snapshot.f16"
    index.write_bytes(b"i" * 10)
    vectors.write_bytes(b"v" * 1000)
    read = []
    monkeypatch.setattr(snapshot, "_file_read_ahead", read.append)

    monkeypatch.setattr(snapshot, "memory_available", lambda: 2000)
    snapshot._read_ahead(index, vectors)
    assert read == [index, vectors]

    read.clear()
    monkeypatch.setattr(snapshot, "memory_available", lambda: 1999)
    snapshot._read_ahead(index, vectors)
    assert read == [index]


def test_a_generation_removed_before_its_read_ahead_is_passed_over(tmp_path):
    snapshot._read_ahead(tmp_path / "gone.faiss", tmp_path / "gone.f16")  # raises nothing


def test_a_generation_removed_during_its_read_ahead_is_left_unread(tmp_path, monkeypatch):
    path = tmp_path / "snapshot.f16"
    path.write_bytes(b"v" * 5000)
    asked = []

    def ask(descriptor, start, length, advice):
        asked.append(start)
        path.unlink(missing_ok=True)  # the writer removes the generation meanwhile

    monkeypatch.setattr(snapshot, "READ_AHEAD_CHUNK", 8)
    monkeypatch.setattr(snapshot.os, "posix_fadvise", ask)
    snapshot._file_read_ahead(path)
    assert len(asked) == 256  # checked every 256 chunks: stopped at the first check after


def test_the_memory_available_is_read_from_the_system():
    assert snapshot.memory_available() > 0


def test_a_file_read_ahead_is_asked_for_a_chunk_at_a_time(tmp_path, monkeypatch):
    """One request for a whole file makes Linux read only its readahead window; each chunk
    is waited for (its last byte read) before the next is asked for."""
    path = tmp_path / "snapshot.f16"
    path.write_bytes(b"v" * 5000)
    calls = []
    monkeypatch.setattr(snapshot, "READ_AHEAD_CHUNK", 2048)
    monkeypatch.setattr(snapshot.os, "posix_fadvise",
                        lambda descriptor, start, length, advice: calls.append(("ask", start)))
    real_pread = snapshot.os.pread
    monkeypatch.setattr(snapshot.os, "pread", lambda descriptor, length, offset: (
        calls.append(("wait", offset)), real_pread(descriptor, length, offset))[1])
    snapshot._file_read_ahead(path)
    assert calls == [("ask", 0), ("wait", 2047), ("ask", 2048), ("wait", 4095),
                     ("ask", 4096), ("wait", 4999)]


def test_only_the_faiss_file_is_read_ahead_when_asked_for_the_index_alone(tmp_path,
                                                                          monkeypatch):
    read = []
    monkeypatch.setattr(snapshot, "_file_read_ahead", read.append)
    monkeypatch.setattr(snapshot, "memory_available", lambda: 10**12)
    snapshot._read_ahead(tmp_path / "snapshot.faiss", None)
    assert read == [tmp_path / "snapshot.faiss"]
