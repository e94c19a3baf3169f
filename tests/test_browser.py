"""The real thing: `streamlit run app.py` on a free port, driven by Debian's headless Chromium
through Playwright (no browser download: executable_path only). Skips without /usr/bin/chromium.

QA_SCREENSHOT=docs/screenshot.png makes it also write the README's screenshot there."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import ROOT, SAMPLES
from qa.assistant import Assistant
from qa.index import ArticleIndex

CHROMIUM = "/usr/bin/chromium"
COST_Q = "How much did it cost to restore the Kestrel crossing in Port Avalon?"
BRIDGE = "Harbour Bridge Reopens After 14-Month Restoration"
FERRY = (
    "Ferry <script>alert(1)</script> service returns\n"
    "By Sam Roe - Tidewater Times - April 2, 2026\n\n"
    "The Gullhaven ferry service returned on Friday after a three-month pause, carrying 412 passengers "
    "on its first day. <script>alert(1)</script> <img src=x onerror=alert(2)>\n\n"
    "Harbour master Olga Brandt said the new vessel cost $9.1 million.\n"
)
FERRY_Q = "How many passengers did the Gullhaven ferry carry on its first day?"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no {CHROMIUM} (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(sample_index, tmp_path):
    """The app on its own copy of the index (the test adds an article); always terminated."""
    index = shutil.copytree(sample_index, tmp_path / "index")
    port = free_port()
    env = {**os.environ, "QA_INDEX": str(index)}
    command = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--server.fileWatcherType", "none",
               "--browser.gatherUsageStats", "false"]
    log = open(tmp_path / "server.log", "wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start: {(tmp_path / 'server.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def ask(page, question: str) -> None:
    answered = page.locator(".qa-timing").count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(question)
    box.press("Enter")
    page.locator(".qa-timing").nth(answered).wait_for(timeout=90_000)


def test_question_answered_in_a_real_browser(server, tmp_path):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            alerts = []
            page.on("dialog", lambda dialog: (alerts.append(dialog.message), dialog.dismiss()))
            page.goto(server, wait_until="domcontentloaded")
            page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)

            ask(page, COST_Q)
            assert page.locator("mark.qa-hit").first.inner_text() == "$38.6 million"
            assert page.locator(".qa-card-title", has_text=BRIDGE).first.is_visible()
            page.wait_for_timeout(500)  # let the layout settle for the screenshot
            page.screenshot(path=tmp_path / "answer.png")
            if os.environ.get("QA_SCREENSHOT"):
                page.screenshot(path=os.environ["QA_SCREENSHOT"])

            # an uploaded article holding markup: added, answerable, and shown as text
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
                files=[{"name": "ferry.txt", "mimeType": "text/plain", "buffer": FERRY.encode()}]
            )
            page.get_by_role("button", name="Add to library").click()
            page.get_by_text("1 of 1 files added or updated").wait_for(timeout=60_000)
            page.get_by_role("button", name="Clear chat").click()
            page.locator(".qa-timing").first.wait_for(state="detached", timeout=30_000)
            ask(page, FERRY_Q)
            assert page.locator("mark.qa-hit").last.inner_text() == "412"
            assert page.get_by_text("Ferry <script>alert(1)</script> service returns").last.is_visible()
            assert page.locator("[data-testid=stMain] script, [data-testid=stMain] img[src=x]").count() == 0
            page.screenshot(path=tmp_path / "upload.png")

            # questions sent faster than they are answered: none lost, answered in order
            page.get_by_role("button", name="Clear chat").click()
            page.locator(".qa-timing").first.wait_for(state="detached", timeout=30_000)
            fast = ["Who runs the Anchor Cafe?", FERRY_Q, COST_Q, "Who is the mayor of Port Avalon?"]
            box = page.get_by_test_id("stChatInputTextArea")
            for question in fast:
                box.fill(question)
                box.press("Enter")
                page.wait_for_timeout(300)  # well within one answer's time; the race at 0.15 s and below is in Known limits
            page.locator(".qa-timing").nth(len(fast) - 1).wait_for(timeout=120_000)
            assert page.locator(".qa-question").all_inner_texts() == fast
            assert alerts == []
        finally:
            browser.close()


def test_a_question_sent_during_an_upload_lets_the_upload_finish(server, tmp_path):
    """Streamlit starts a new run for the question and stops the one adding files at its next
    Streamlit call: the files are all added all the same, and their results shown once done."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    words = ("council budget ferry harbour school bridge mayor river storm museum clinic tram road fares rail "
             "library market festival theatre stadium airport hospital police court college farm factory").split()

    def story(i: int) -> str:  # stories unlike each other: none is taken for a copy of another
        pick = random.Random(i).sample
        return " ".join(f"The {a} near the {b} opened {i} new {c} on Monday, said the {d}." for a, b, c, d in (pick(words, 4) for _ in range(8)))

    feed = "".join(json.dumps({"id": f"story-{i}", "title": f"Report {i}", "text": story(i)}) + "\n" for i in range(120))

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(server, wait_until="domcontentloaded")
            page.get_by_test_id("stChatInputTextArea").wait_for(timeout=60_000)
            page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
                files=[{"name": "feed.jsonl", "mimeType": "application/json", "buffer": feed.encode()}]
            )
            page.get_by_role("button", name="Add to library").click()
            page.wait_for_timeout(500)
            ask(page, COST_Q)  # answered while the upload goes on
            assert page.locator("mark.qa-hit").first.inner_text() == "$38.6 million"
            page.get_by_text("1 of 1 files added or updated").wait_for(timeout=180_000)
            assert "as story-0, story-1" in page.locator(".qa-uploads").inner_text()
        finally:
            browser.close()
    index = tmp_path / "index"
    assert (index / "uploads" / "feed.jsonl").exists()
    from qa.index import ArticleIndex

    assert len(ArticleIndex(index).open().store.articles()) == 15 + 120
