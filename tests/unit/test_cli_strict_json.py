"""Files the CLI reads are JSON read strictly, as the API reads bodies: a duplicate member (two parsers would read
two different files), NaN or a number beyond a double is a one-line error, and nothing of the file is stored."""

from __future__ import annotations

import json

import pytest

from tests.unit.test_cli_safety import CAM_CO, clean_env, init, one_line_error, run  # noqa: F401 - clean_env: autouse

DOCUMENT = {
    "companies": [
        {
            "companyId": CAM_CO,
            "name": "Cam",
            "products": [
                {
                    "productId": "urn:pact:hokuriku-cathode.example:product:cam",
                    "name": "CAM",
                    "declaredUnit": "kilogram",
                    "emissions": {"main_production": "1.5"},
                }
            ],
        }
    ]
}


@pytest.mark.parametrize(
    ("before", "after", "words"),
    [
        ('"name": "CAM"', '"name": "Shown", "name": "CAM"', ["import file", "duplicate member 'name'"]),
        ('"companies": [', '"x": NaN, "companies": [', ["import file", "NaN"]),
        ('"companies": [', '"x": 1e999999, "companies": [', ["import file", "out of range"]),
    ],
)
def test_an_import_file_that_is_not_strict_json_gets_one_line(tmp_path, before, after, words) -> None:
    data = tmp_path / "node"
    assert init(data, CAM_CO).exit_code == 0
    text = json.dumps(DOCUMENT)
    assert before in text
    path = tmp_path / "import.json"
    path.write_text(text.replace(before, after, 1))
    one_line_error(run("import", str(path), "--data-dir", str(data)), *words)
    shown = run("footprint", "show", "urn:pact:hokuriku-cathode.example:product:cam", "--data-dir", str(data))
    assert "not found" in shown.stderr  # nothing of the file was stored
