"""A small Quarto website project for the tests of the renderer's modules."""

QUARTO = """project:
  type: website
  output-dir: _site
  render:
    - site/index.qmd
    - site/page.qmd
website:
  title: "Mini lesson"
  navbar:
    left:
      - href: site/index.qmd
        text: Home
      - href: site/page.qmd
        text: "1. Page"
  page-navigation: true
  page-footer:
    left: "Text: *CC BY 4.0*."
    right: "[Back to the page](page.qmd#the-result)"
  sidebar:
    contents:
      - site/index.qmd
      - section: Episodes
        contents:
          - href: site/page.qmd
execute:
  freeze: auto
  warning: false
format:
  html:
    toc: true
    number-sections: true
    embed-resources: true
    css: site/style.css
  typst:
    papersize: a4
    number-sections: true
"""


INDEX = """---
title: "Mini lesson"
number-sections: false
listing:
  id: episode-list
  type: table
  contents: [page.qmd]
  sort: false
  fields: [title, teaching]
---

## Welcome

See [the page](page.qmd) and its [result](page.qmd#the-result).

::: {#episode-list}
:::

{{< include _shared.md >}}

## Words

Pixel
: One picture element.
"""


PAGE = """---
title: "The page"
teaching: 5
exercises: 3
---

```{python}
#| include: false
from analysis.site.display import notebook_setup
notebook_setup()
hidden_marker = "checked quietly"
```

## The result

```{python}
answer = 6 * 7
```

The answer is `{python} answer`, shown in @fig-demo.

```{python}
#| label: fig-demo
#| fig-cap: "A demo figure."
#| fig-alt: "A rising line."
from matplotlib.figure import Figure
figure = Figure(figsize=(3, 2))
figure.subplots().plot([1, 2, 3])
figure
```

```{python}
#| label: tbl-demo
#| tbl-cap: "A demo table."
import pandas as pd
pd.DataFrame({"x": [0.123456, 2.0], "name": ["a", "b"]})
```

::: {.callout-tip title="Exercise 1: double it"}
Double the answer.

::: {.callout-tip title="Solution" collapse="true"}
```{python}
doubled = 2 * answer
```

It is `{python} doubled`.
:::
:::
"""


def make_project(root, page=PAGE):
    (root / "site").mkdir(parents=True)
    (root / "_quarto.yml").write_text(QUARTO)
    (root / "site" / "index.qmd").write_text(INDEX)
    (root / "site" / "page.qmd").write_text(page)
    (root / "site" / "_shared.md").write_text("Shared words from an include.")
    (root / "site" / "style.css").write_text("body { color: #123456; }")
    return root
