"""How a project spec's YAML is read: safely, fast, exactly.

* Safe: only YAML's plain types (no `!!python/...` tags), as `yaml.safe_load`.
* Fast: libyaml's C parser when PyYAML has it (five times faster on a big file,
  and it refuses flow nesting beyond its limit instead of recursing).
* Exact: a float keeps the text it was written as (`YamlFloat.text`), because a
  float is not money: `per_task: 0.40` must be read as the decimal 0.40 someone
  typed, and `1.0e+3` or `0.100000000000000001` refused like any other amount that
  is not plain digits with at most 4 decimals — not rounded to a binary float first.
* Unambiguous: a key written twice in one mapping is refused. PyYAML keeps the
  last one silently, so a second `pay:` further down would win unseen.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError
from yaml.nodes import MappingNode, ScalarNode

# libyaml's parser when PyYAML was built with it (its wheels are).
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlFloat(float):
    """A YAML float together with the text it was written as."""

    text: str

    def __new__(cls, value: float, text: str) -> YamlFloat:
        made = super().__new__(cls, value)
        made.text = text
        return made


class _Loader(_Base):  # type: ignore[misc]
    def construct_yaml_float(self, node: ScalarNode) -> float:
        value = super().construct_yaml_float(node)
        return YamlFloat(value, str(node.value))

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[str] = set()
        for key_node, _ in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            if key_node.value in seen:
                raise ConstructorError(
                    None,
                    None,
                    f"the key {str(key_node.value)[:40]!r} is written twice",
                    key_node.start_mark,
                )
            seen.add(key_node.value)
        result: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return result


_Loader.add_constructor("tag:yaml.org,2002:float", _Loader.construct_yaml_float)


def load_spec_yaml(text: str) -> Any:
    """The YAML document in `text`; `yaml.YAMLError` (with a mark) when it is not one."""
    return yaml.load(text, Loader=_Loader)  # a safe constructor (see above)
