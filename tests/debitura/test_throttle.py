"""The client-side rate limiter: sliding windows that wait instead of failing."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from debitura.errors import TransientError
from debitura.throttle import (
    DEBITURA_WINDOWS,
    FileThrottle,
    MemoryThrottle,
    RedisThrottle,
    SlidingWindowThrottle,
    Window,
    throttle_for,
)
from tests.fixtures.gateway import FakeClock

if TYPE_CHECKING:
    import redis

SMALL = (Window(60, 3), Window(3600, 5))


def memory(clock: FakeClock, windows: tuple[Window, ...] = SMALL) -> MemoryThrottle:
    return MemoryThrottle(windows, clock=clock, sleep=clock.sleep)


@pytest.fixture(params=["memory", "file", "redis"])
def make_throttle(request: pytest.FixtureRequest, fake_clock: FakeClock, tmp_path: Path):
    """Build each implementation on the fake clock; the Redis one needs the local Redis."""

    def build(windows: tuple[Window, ...] = SMALL, api_key: str = "key-1") -> SlidingWindowThrottle:
        if request.param == "memory":
            return memory(fake_clock, windows)
        if request.param == "file":
            return FileThrottle(
                tmp_path / "throttle.sqlite3", api_key, windows, clock=fake_clock, sleep=fake_clock.sleep
            )
        client = request.getfixturevalue("redis_client")
        prefix = request.getfixturevalue("redis_prefix")
        return RedisThrottle(
            client, api_key, windows, prefix=prefix, clock=fake_clock, sleep=fake_clock.sleep
        )

    return build


def test_defaults_are_debituras_published_limits() -> None:
    assert (Window(60, 2000), Window(3600, 20_000), Window(86_400, 100_000)) == DEBITURA_WINDOWS


def test_requests_within_the_minute_limit_do_not_wait(make_throttle, fake_clock: FakeClock) -> None:
    throttle = make_throttle()
    for _ in range(3):
        throttle.acquire()
    assert fake_clock.sleeps == []


def test_the_request_over_the_minute_limit_waits_until_the_oldest_slides_out(
    make_throttle, fake_clock: FakeClock
) -> None:
    throttle = make_throttle()
    throttle.acquire()
    fake_clock.advance(10)
    throttle.acquire()
    throttle.acquire()

    throttle.acquire()

    # The first request (t=0) leaves the 60 s window at t=60; we were at t=10.
    assert fake_clock.sleeps == [pytest.approx(50)]


def test_the_hour_window_holds_after_the_minute_window_has_room(make_throttle, fake_clock: FakeClock) -> None:
    throttle = make_throttle()
    start = fake_clock.now
    for _ in range(5):
        throttle.acquire()
        fake_clock.advance(61)

    throttle.acquire()

    # Five requests in the hour: the sixth waits until the first is an hour old.
    assert fake_clock.now == pytest.approx(start + 3600)


def test_a_window_slides_rather_than_resetting_on_the_minute(make_throttle, fake_clock: FakeClock) -> None:
    throttle = make_throttle((Window(60, 2),))
    throttle.acquire()
    fake_clock.advance(59)
    throttle.acquire()
    fake_clock.advance(2)  # t=61: the first has left, the second has not

    throttle.acquire()
    assert fake_clock.sleeps == []
    throttle.acquire()
    assert fake_clock.sleeps == [pytest.approx(58)]  # from t=61 until the t=59 request is 60 s old


def test_weight_counts_several_requests_at_once(make_throttle, fake_clock: FakeClock) -> None:
    throttle = make_throttle()
    throttle.acquire(weight=3)
    throttle.acquire(weight=1)
    assert fake_clock.sleeps == [pytest.approx(60)]


def test_a_weight_larger_than_any_window_is_refused(make_throttle) -> None:
    with pytest.raises(ValueError, match="weight"):
        make_throttle().acquire(weight=4)


def test_a_share_is_capped_at_its_fraction_of_the_budget(make_throttle, fake_clock: FakeClock) -> None:
    throttle = make_throttle((Window(60, 8),))
    background = throttle.share("refresh", 0.25)

    background.acquire()
    background.acquire()
    assert fake_clock.sleeps == []
    background.acquire()  # a quarter of 8 is 2
    assert fake_clock.sleeps == [pytest.approx(60)]


def test_a_share_counts_against_the_whole_budget_too(make_throttle, fake_clock: FakeClock) -> None:
    throttle = make_throttle((Window(60, 4),))
    background = throttle.share("refresh", 0.5)
    background.acquire()
    background.acquire()
    throttle.acquire()
    throttle.acquire()
    assert fake_clock.sleeps == []

    throttle.acquire()  # the whole budget of 4 is used, two of it by the share
    assert fake_clock.sleeps == [pytest.approx(60)]


def test_a_larger_share_of_the_same_name_counts_in_the_smaller_ones_bucket(
    make_throttle, fake_clock: FakeClock
) -> None:
    # The children queue uses 90% while agents are idle; when an agent acts it drops to 25% and
    # waits until its own requests in the window are under that again.
    base = make_throttle((Window(60, 100),))
    idle, busy = base.share("children", 0.9), base.share("children", 0.25)
    for _ in range(90):
        idle.acquire()
    assert fake_clock.sleeps == []
    busy.acquire()
    assert fake_clock.sleeps == [pytest.approx(60)]


def test_a_full_budget_also_holds_back_the_share(make_throttle, fake_clock: FakeClock) -> None:
    throttle = make_throttle((Window(60, 4),))
    background = throttle.share("refresh", 0.5)
    for _ in range(4):
        throttle.acquire()

    background.acquire()
    assert fake_clock.sleeps == [pytest.approx(60)]


def test_memory_throttle_is_safe_across_threads() -> None:
    clock = FakeClock()
    lock = threading.Lock()

    def sleep(seconds: float) -> None:
        with lock:
            clock.sleep(seconds)

    throttle = MemoryThrottle((Window(60, 50),), clock=clock, sleep=sleep)

    def ten_requests() -> None:
        for _ in range(10):
            throttle.acquire()

    threads = [threading.Thread(target=ten_requests) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # 100 requests through a 50-a-minute window: at least one minute had to pass.
    assert clock.now - 1_700_000_000.0 >= 60


def test_redis_throttle_shares_windows_between_processes(
    redis_client: redis.Redis, redis_prefix: str, fake_clock: FakeClock
) -> None:
    def worker() -> RedisThrottle:
        return RedisThrottle(
            redis_client,
            "key-1",
            (Window(60, 3),),
            prefix=redis_prefix,
            clock=fake_clock,
            sleep=fake_clock.sleep,
        )

    first, second = worker(), worker()
    first.acquire()
    first.acquire()
    second.acquire()
    assert fake_clock.sleeps == []
    second.acquire()
    assert fake_clock.sleeps == [pytest.approx(60)]


def test_redis_keys_use_a_hash_of_the_api_key_never_the_key(
    redis_client: redis.Redis, redis_prefix: str, fake_clock: FakeClock
) -> None:
    secret = "very-secret-api-key-123"
    throttle = RedisThrottle(
        redis_client, secret, prefix=redis_prefix, clock=fake_clock, sleep=fake_clock.sleep
    )
    throttle.acquire()

    keys = [key.decode() for key in redis_client.scan_iter(match=f"{redis_prefix}:*")]
    assert keys
    assert all(secret not in key for key in keys)
    assert secret not in repr(throttle)


def test_separate_api_keys_have_separate_budgets(
    redis_client: redis.Redis, redis_prefix: str, fake_clock: FakeClock
) -> None:
    def for_key(api_key: str) -> RedisThrottle:
        return RedisThrottle(
            redis_client,
            api_key,
            (Window(60, 1),),
            prefix=redis_prefix,
            clock=fake_clock,
            sleep=fake_clock.sleep,
        )

    for_key("key-a").acquire()
    for_key("key-b").acquire()
    assert fake_clock.sleeps == []


def test_redis_keys_expire_after_the_longest_window(
    redis_client: redis.Redis, redis_prefix: str, fake_clock: FakeClock
) -> None:
    throttle = RedisThrottle(
        redis_client, "key-1", SMALL, prefix=redis_prefix, clock=fake_clock, sleep=fake_clock.sleep
    )
    throttle.acquire()
    (key,) = redis_client.scan_iter(match=f"{redis_prefix}:*")
    assert 3600 <= int(redis_client.ttl(key)) <= 3601  # type: ignore[arg-type]


def test_a_redis_broker_selects_the_shared_throttle(tmp_path: Path) -> None:
    assert isinstance(throttle_for("redis://127.0.0.1:6379/0", "k", directory=tmp_path), RedisThrottle)
    assert isinstance(throttle_for("filesystem://", "k", directory=tmp_path), FileThrottle)
    assert isinstance(throttle_for("filesystem://", "k"), MemoryThrottle)
    assert isinstance(throttle_for("memory://", "k"), MemoryThrottle)


# Run by each of two processes: as many requests as it can get at once from the shared minute
# window (of a share whose limit is 20), without waiting; prints how many it got.
GRAB = """
import sys, time
from pathlib import Path
from debitura.throttle import throttle_for
throttle = throttle_for("filesystem://", "key-1", directory=Path(sys.argv[1])).share("test", 0.01)
granted = sum(throttle._try_acquire(1, time.time()) == 0 for _ in range(int(sys.argv[2])))
print(granted)
"""


def _grab(directory: Path, count: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", GRAB, str(directory), str(count)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )


def test_two_processes_without_redis_share_one_window(tmp_path: Path) -> None:
    # The share's minute limit is 20 (1% of 2,000): two processes asking 15 each get 20 between them.
    processes = [_grab(tmp_path, 15), _grab(tmp_path, 15)]
    granted = [int(process.communicate(timeout=120)[0]) for process in processes]

    assert sum(granted) == 20, granted


def test_a_second_run_starts_with_the_first_runs_window(tmp_path: Path) -> None:
    first = _grab(tmp_path, 20)
    assert int(first.communicate(timeout=120)[0]) == 20
    second = _grab(tmp_path, 5)
    assert int(second.communicate(timeout=120)[0]) == 0


def test_the_file_throttle_decides_as_the_memory_throttle_does_step_by_step(tmp_path: Path) -> None:
    # The file keeps how many requests slid out of each window instead of counting them again:
    # over a long run of requests at random moments both must answer alike, wait for wait.
    import random

    rng = random.Random(3)
    windows = (Window(10, 5), Window(60, 12), Window(300, 40))
    clock = FakeClock()
    in_memory = MemoryThrottle(windows, clock=clock, sleep=clock.sleep)
    on_file = FileThrottle(tmp_path / "t.sqlite3", "key-1", windows, clock=clock, sleep=clock.sleep)
    answers = []
    for _ in range(600):
        clock.advance(rng.choice((0.0, 0.1, 0.5, 1.0, 2.5, 7.0)))
        weight = rng.choice((1, 1, 1, 2))
        answers.append((in_memory._try_acquire(weight, clock()), on_file._try_acquire(weight, clock())))
    assert all(memory_wait == pytest.approx(file_wait) for memory_wait, file_wait in answers)
    assert sum(wait == 0 for wait, _ in answers) > 100  # both granted and refused along the way
    assert sum(wait > 0 for wait, _ in answers) > 100


def test_clients_in_one_process_share_one_memory_throttle() -> None:  # without a directory
    first = throttle_for("filesystem://", "key-shared")
    assert throttle_for("memory://", "key-shared") is first
    assert throttle_for("filesystem://", "another-key") is not first


def test_an_unreachable_redis_is_a_transient_error_not_a_redis_one(fake_clock: FakeClock) -> None:
    import redis as redis_lib

    unreachable = redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    throttle = RedisThrottle(unreachable, "key-1", clock=fake_clock, sleep=fake_clock.sleep)
    with pytest.raises(TransientError) as caught:
        throttle.acquire()
    assert not caught.value.ambiguous


def test_eight_processes_opening_a_new_window_file_at_once_all_get_through(tmp_path: Path) -> None:
    # The switch of a new file to WAL answered "database is locked" to a process that opened it at
    # the same moment as another (seen once in a full run on a loaded machine): it is made under a
    # file lock now.
    processes = [_grab(tmp_path, 2) for _ in range(8)]
    granted = [int(process.communicate(timeout=120)[0]) for process in processes]

    assert sum(granted) == 16, granted
