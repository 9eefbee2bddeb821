"""Answer sequences for whole surveys through the console (numbers as a citizen would type them)."""

LANGUAGE_NUMBER = {"kk": "1", "ru": "2", "ky": "3"}

# q1..q5, s1..s21, q7, q8, city, q10, q11, q12 — 32 answers.
FULL = ["2", "1,3,5", "2,3", "1", "2"] + [str(1 + i % 5) for i in range(21)] + ["2", "1", "3", "2", "2", "1"]
# "Нет, не знаком" skips straight to the profile block.
SKIP = ["4", "1", "2", "1", "1", "2", "2"]


def opening(language: str) -> list[str]:
    return ["/start", LANGUAGE_NUMBER[language], "1"]
