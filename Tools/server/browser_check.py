#!/usr/bin/env python3
"""browser_check: the built-in page of a running earshot-server in headless Chromium (selenium).

Usage: python3 Tools/server/browser_check.py --url http://127.0.0.1:8080 [--audio FILE] [--expect TEXT] [--screenshot out.png]

Loads /, uploads the audio, runs Transcribe, waits for the transcript on the page (containing --expect when
given), checks the download buttons appear, and saves a screenshot. Needs Debian's chromium and
chromium-driver and PyPI's selenium; exit 2 when they are missing.
"""
import argparse
import pathlib
import sys

try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.webdriver.chrome.service import Service
except ImportError:
    print("browser_check: selenium is not installed (pip install selenium); skipped", file=sys.stderr)
    sys.exit(2)


def main() -> int:
    here = pathlib.Path(__file__).resolve().parents[2]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default="http://127.0.0.1:8080")
    p.add_argument("--audio", default=str(here / "Tests/Fixtures/audio/jfk.wav"))
    p.add_argument("--expect", default="")
    p.add_argument("--screenshot", default="earshot-page.png")
    p.add_argument("--timeout", type=float, default=300)
    a = p.parse_args()
    if not pathlib.Path("/usr/bin/chromedriver").exists():
        print("browser_check: /usr/bin/chromedriver missing (apt-get install chromium chromium-driver); skipped", file=sys.stderr)
        return 2
    o = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1000,800"):
        o.add_argument(flag)
    o.binary_location = "/usr/bin/chromium"
    d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=o)
    try:
        d.get(a.url + "/")
        WebDriverWait(d, 30).until(lambda d: "serves" in d.find_element(By.ID, "model").text)
        print("page model line:", d.find_element(By.ID, "model").text)
        d.find_element(By.ID, "file").send_keys(str(pathlib.Path(a.audio).resolve()))
        d.find_element(By.ID, "task").send_keys("Transcribe")
        d.find_element(By.ID, "run").click()
        WebDriverWait(d, a.timeout).until(lambda d: d.find_element(By.ID, "status").text in ("done",) or
                                          d.find_element(By.ID, "status").get_attribute("class") == "err")
        text = d.find_element(By.ID, "output").text
        status = d.find_element(By.ID, "status").text
        downloads = d.find_element(By.ID, "downloads").is_displayed()
        d.save_screenshot(a.screenshot)
        print(f"status {status!r}; downloads shown: {downloads}; transcript on the page: {text!r}")
        ok = status == "done" and text.strip() and downloads and a.expect.lower() in text.lower()
        print("browser_check:", "ok" if ok else "FAILED", "; screenshot", a.screenshot)
        return 0 if ok else 1
    finally:
        d.quit()


if __name__ == "__main__":
    sys.exit(main())
