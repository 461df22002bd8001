-- Quarto features for plain pandoc, in HTML and Typst:
--  * callouts (::: {.callout-note title="..." collapse="true"}): a titled box,
--    folded in HTML when collapse="true";
--  * links between pages (page.qmd, page.qmd#anchor);
--  * figure numbers and cross-references (@fig-name);
--  * in HTML, an id for each term of a definition list (term-<its words>),
--    which the search index and links can point at.
local kinds = {note = "Note", tip = "Tip", warning = "Warning", important = "Important", caution = "Caution"}
local html = FORMAT:match("html") ~= nil
local typst = FORMAT:match("typst") ~= nil

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
  if html then
    local open, close
    if folded then
      open = '<details class="callout callout-' .. kind .. '"><summary>' .. title .. '</summary>'
      close = '</details>'
    else
      open = '<div class="callout callout-' .. kind .. '"><p class="callout-title">' .. title .. '</p>'
      close = '</div>'
    end
    return pandoc.List({pandoc.RawBlock("html", open)}) .. content .. pandoc.List({pandoc.RawBlock("html", close)})
  elseif typst then
    local colour = folded and "#21918c" or (kind == "warning" and "#b35806" or "#3b528b")
    local title_block = pandoc.Para({pandoc.Strong({pandoc.Str(title)})})
    return pandoc.List({pandoc.RawBlock("typst", "#block(fill: luma(245), stroke: (left: 2pt + rgb(\"" .. colour .. "\")), inset: 8pt, width: 100%, breakable: true)[")})
      .. pandoc.List({title_block}) .. content .. pandoc.List({pandoc.RawBlock("typst", "]")})
  end
end

function DefinitionList(list)
  if not html then return nil end
  for _, item in ipairs(list.content) do
    local words = pandoc.utils.stringify(item[1]):lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", "")
    item[1] = {pandoc.Span(item[1], {id = "term-" .. words})}
  end
  return list
end

function Link(link)
  local page, anchor = link.target:match("^([%w%-_]+)%.qmd(#?.*)$")
  if not page then return nil end
  if html then
    link.target = page .. ".html" .. anchor
  elseif anchor ~= "" then
    link.target = anchor
  else
    link.target = "#page-" .. page
  end
  return link
end

function Pandoc(doc)
  local numbers, count = {}, 0
  doc.blocks = doc.blocks:walk({
    Figure = function(figure)
      if not figure.identifier:match("^fig%-") then return nil end
      count = count + 1
      numbers[figure.identifier] = count
      if html and figure.caption.long[1] then
        local first = figure.caption.long[1]
        first.content = pandoc.List({pandoc.Str("Figure"), pandoc.Space(), pandoc.Str(count .. ":"), pandoc.Space()})
          .. first.content
      end
      return figure
    end,
  })
  doc.blocks = doc.blocks:walk({
    Cite = function(cite)
      local id = cite.citations[1].id
      if not id:match("^fig%-") then return nil end
      if typst then return pandoc.RawInline("typst", "@" .. id) end
      if not numbers[id] then
        error("cross-reference to a missing figure: @" .. id)
      end
      return pandoc.Link({pandoc.Str("Figure"), pandoc.Space(), pandoc.Str(tostring(numbers[id]))}, "#" .. id)
    end,
  })
  return doc
end
