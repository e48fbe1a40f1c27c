"""The browser test: headless Chromium on the token page of the development LMS."""
