-- Quarto-style callouts (::: {.callout-note title="..." collapse="true"}) for
-- plain pandoc: a titled box in HTML (folded when collapse="true") and in Typst.
local kinds = {note = "Note", tip = "Tip", warning = "Warning", important = "Important", caution = "Caution"}

local function callout_kind(div)
  for _, class in ipairs(div.classes) do
    local kind = class:match("^callout%-(%a+)$")
    if kind and kinds[kind] then return kind end
  end
end

function Div(div)
  local kind = callout_kind(div)
  if not kind then return nil end
  local title = div.attributes["title"]
  local content = div.content
  if not title and content[1] and content[1].t == "Header" then
    title = pandoc.utils.stringify(content[1])
    content = pandoc.List({table.unpack(content, 2)})
  end
  title = title or kinds[kind]
  local folded = div.attributes["collapse"] == "true"
  if FORMAT:match("html") then
    local open, close
    if folded then
      open = '<details class="callout callout-' .. kind .. '"><summary>' .. title .. '</summary>'
      close = '</details>'
    else
      open = '<div class="callout callout-' .. kind .. '"><p class="callout-title">' .. title .. '</p>'
      close = '</div>'
    end
    return pandoc.List({pandoc.RawBlock("html", open)}) .. content .. pandoc.List({pandoc.RawBlock("html", close)})
  elseif FORMAT:match("typst") then
    local title_block = pandoc.Para({pandoc.Strong({pandoc.Str(title)})})
    return pandoc.List({pandoc.RawBlock("typst", "#block(fill: luma(243), stroke: (left: 2pt + rgb(\"#3b528b\")), inset: 8pt, width: 100%)[")})
      .. pandoc.List({title_block}) .. content .. pandoc.List({pandoc.RawBlock("typst", "]")})
  end
end
