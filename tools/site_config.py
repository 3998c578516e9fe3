"""nbconvert's configuration for the site (make html) and the decks (make slides).

tools/build_site.py loads it; the templates are in tools/site_templates/, and the filters below
(MathML, figure alt text, links between lessons) are tools.build_site's.
"""

from pathlib import Path

c = get_config()  # noqa: F821  (traitlets gives a config file this name)

c.TemplateExporter.extra_template_paths = [str(Path(__file__).resolve().parent / "site_templates")]
c.TemplateExporter.filters = {
    "markdown2html": "tools.build_site.markdown2html",  # math as MathML, links to the pages
    "alt": "tools.build_site.alt",  # a figure's alt text, from its cell's metadata
}
c.HTMLExporter.template_name = "lab"
c.HTMLExporter.template_file = "lesson.html.j2"
c.SlidesExporter.template_name = "reveal"
c.SlidesExporter.template_file = "slides.html.j2"
c.SlidesExporter.reveal_url_prefix = "_static/reveal.js"  # build_slides copies reveal.js there
c.SlidesExporter.reveal_theme = "white"
