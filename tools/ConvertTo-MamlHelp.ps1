<#
.SYNOPSIS
    Converts platyPS-style markdown help (docs/en-US) into PowerShell's help files.

.DESCRIPTION
    A small stand-in for platyPS's New-ExternalHelp (platyPS is not available from the registries
    this project can reach). Every cmdlet page (a markdown file with a "## SYNTAX" section) becomes a
    <command:command> in one MAML file, named after the page's "external help file" front matter
    (default Sandbox.dll-Help.xml); every about_*.md becomes about_*.help.txt.

    Cmdlet page layout (platyPS 0.14):
      front matter (external help file, Module Name, online version, schema)
      # Verb-Noun
      ## SYNOPSIS, ## SYNTAX (### <Set> [(Default)] + code block per parameter set),
      ## DESCRIPTION, ## EXAMPLES (### Example N + ```powershell block + remarks),
      ## PARAMETERS (### -Name + description + ```yaml block(s): Type, Parameter Sets, Aliases,
      Required, Position, Default value, Accept pipeline input, Accept wildcard characters;
      ### CommonParameters is skipped), ## INPUTS / ## OUTPUTS (### <type> + description),
      ## NOTES, ## RELATED LINKS ([text](uri) lines).

.EXAMPLE
    ./tools/ConvertTo-MamlHelp.ps1 -Path docs/en-US -OutputPath output/Sandbox/0.1.0/en-US
#>
[CmdletBinding()]
param(
    # Folder with the markdown pages.
    [Parameter(Mandatory)] [string] $Path,
    # Folder to write Sandbox.dll-Help.xml and about_*.help.txt into (created if missing).
    [Parameter(Mandatory)] [string] $OutputPath,
    # MAML file name for pages whose front matter names none.
    [string] $DefaultHelpFileName = 'Sandbox.dll-Help.xml'
)

Set-StrictMode -Version 3.0
$ErrorActionPreference = 'Stop'

#region markdown parsing

function Split-FrontMatter([string[]] $Lines) {
    $meta = [ordered]@{}
    if ($Lines.Count -gt 0 -and $Lines[0].Trim() -eq '---') {
        for ($i = 1; $i -lt $Lines.Count; $i++) {
            if ($Lines[$i].Trim() -eq '---') {
                return @{ Meta = $meta; Body = @($Lines | Select-Object -Skip ($i + 1)) }
            }
            if ($Lines[$i] -match '^\s*([^:]+?)\s*:\s*(.*?)\s*$') { $meta[$Matches[1]] = $Matches[2] }
        }
    }
    @{ Meta = $meta; Body = $Lines }
}

# Splits a page into its "# Title", "## Section" and "### Subsection" parts, ignoring '#' inside code fences.
function Split-Sections([string[]] $Lines) {
    $doc = [ordered]@{ Title = $null; Sections = [ordered]@{} }
    $section = $null; $sub = $null; $inFence = $false
    foreach ($line in $Lines) {
        if ($line -match '^\s*(```|~~~)') { $inFence = -not $inFence }
        if (-not $inFence -and $line -match '^(#{1,3})\s+(.+?)\s*#*\s*$') {
            $level = $Matches[1].Length; $text = $Matches[2]
            if ($level -eq 1) { $doc.Title = $text; continue }
            if ($level -eq 2) {
                $section = @{ Name = $text; Lines = [Collections.Generic.List[string]]::new(); Subs = [Collections.Generic.List[object]]::new() }
                $doc.Sections[$text.ToUpperInvariant()] = $section; $sub = $null; continue
            }
            if ($level -eq 3 -and $section) {
                $sub = @{ Title = $text; Lines = [Collections.Generic.List[string]]::new() }
                $section.Subs.Add($sub); continue
            }
        }
        if ($sub) { $sub.Lines.Add($line) } elseif ($section) { $section.Lines.Add($line) }
    }
    $doc
}

# Splits markdown lines into blocks: @{ Kind = 'text' | 'code'; Lang; Text }.
function Split-Blocks([string[]] $Lines) {
    $blocks = [Collections.Generic.List[object]]::new()
    $para = [Collections.Generic.List[string]]::new()
    $code = $null; $lang = ''
    $flush = {
        if ($para.Count) {
            $blocks.Add([pscustomobject]@{ Kind = 'text'; Lang = ''; Text = (Join-Paragraph $para) })
            $para.Clear()
        }
    }
    foreach ($line in $Lines) {
        if ($null -ne $code) {
            if ($line -match '^\s*(```|~~~)\s*$') {
                $blocks.Add([pscustomobject]@{ Kind = 'code'; Lang = $lang; Text = ($code -join "`n") }); $code = $null
            } else { $code.Add($line) }
            continue
        }
        if ($line -match '^\s*(```|~~~)\s*([\w-]*)') {
            & $flush; $lang = $Matches[2].ToLowerInvariant(); $code = [Collections.Generic.List[string]]::new(); continue
        }
        if ($line.Trim() -eq '') { & $flush; continue }
        $para.Add($line)
    }
    if ($null -ne $code) { $blocks.Add([pscustomobject]@{ Kind = 'code'; Lang = $lang; Text = ($code -join "`n") }) }
    & $flush
    $blocks
}

# Joins a paragraph's lines: prose is reflowed into one line, lists/tables/indented text keep their lines.
function Join-Paragraph([Collections.Generic.List[string]] $Para) {
    $structured = $Para | Where-Object { $_ -match '^\s*([-*+]\s|\d+[.)]\s|\||\s{4})' }
    if ($structured) { return ($Para | ForEach-Object { $_.TrimEnd() }) -join "`n" }
    ($Para | ForEach-Object { $_.Trim() }) -join ' '
}

function Get-Paragraphs([string[]] $Lines) {
    foreach ($b in (Split-Blocks $Lines)) { $b.Text }
}

function ConvertFrom-YamlBlock([string] $Text) {
    $h = @{}
    foreach ($l in $Text -split "`n") {
        if ($l -match '^\s*([^:]+?)\s*:\s*(.*?)\s*$') { $h[$Matches[1]] = $Matches[2] }
    }
    $h
}

#endregion

#region model

function Get-ParameterInfo($Sub) {
    $name = $Sub.Title.Trim().TrimStart('-')
    $blocks = @(Split-Blocks $Sub.Lines)
    $desc = @($blocks | Where-Object { $_.Kind -ne 'code' -or $_.Lang -notin 'yaml', 'yml' } | ForEach-Object Text)
    $variants = @($blocks | Where-Object { $_.Kind -eq 'code' -and $_.Lang -in 'yaml', 'yml' } | ForEach-Object {
            $y = ConvertFrom-YamlBlock $_.Text
            $sets = if ($y['Parameter Sets']) { @($y['Parameter Sets'] -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ }) } else { @('(All)') }
            $aliases = if ($y['Aliases']) { ($y['Aliases'] -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ }) -join ', ' } else { '' }
            $position = if ($y['Position'] -and $y['Position'] -notmatch '^named$') { $y['Position'] } else { 'named' }
            $pipeline = if ($y['Accept pipeline input']) { $y['Accept pipeline input'] } else { 'False' }
            [pscustomobject]@{
                Type     = if ($y['Type']) { $y['Type'] } else { 'Object' }
                Sets     = $sets
                Aliases  = if ($aliases) { $aliases } else { 'none' }
                Required = ($y['Required'] -match '^true$')
                Position = $position
                Default  = if ($y['Default value']) { $y['Default value'] } else { 'None' }
                Pipeline = $pipeline
                Globbing = ($y['Accept wildcard characters'] -match '^true$')
            }
        })
    if (-not $variants) {
        $variants = @([pscustomobject]@{ Type = 'Object'; Sets = @('(All)'); Aliases = 'none'; Required = $false
                Position = 'named'; Default = 'None'; Pipeline = 'False'; Globbing = $false })
    }
    [pscustomobject]@{ Name = $name; Description = $desc; Variants = $variants }
}

function Select-Variant($Parameter, [string] $SetName) {
    $v = $Parameter.Variants | Where-Object { $_.Sets -contains $SetName } | Select-Object -First 1
    if (-not $v) { $v = $Parameter.Variants | Where-Object { $_.Sets -contains '(All)' } | Select-Object -First 1 }
    if (-not $v) { $v = $Parameter.Variants[0] }
    $v
}

# Returns @{ Set; Parameters = @(@{ Name; Type }) } per parameter set, read from the SYNTAX code blocks.
function Get-SyntaxSets($Section) {
    $items = @()
    $sources = if ($Section.Subs.Count) { $Section.Subs } else { @(@{ Title = '(All)'; Lines = $Section.Lines }) }
    foreach ($s in $sources) {
        $setName = ($s.Title -replace '\s*\(Default\)\s*$', '').Trim()
        foreach ($b in (Split-Blocks $s.Lines | Where-Object Kind -eq 'code')) {
            $text = ($b.Text -replace '\s+', ' ').Trim() -replace '^\S+\s*', ''   # drop the command name
            $params = foreach ($m in [regex]::Matches($text, '(?<![\w<])-(?<name>[A-Za-z]\w*)\]?(?:\s*<(?<type>[^>]+)>)?')) {
                @{ Name = $m.Groups['name'].Value; Type = $m.Groups['type'].Value }
            }
            $items += @{ Set = $setName; Parameters = @($params) }
        }
    }
    $items
}

#endregion

#region MAML writing

$ns = @{
    maml    = 'http://schemas.microsoft.com/maml/2004/10'
    command = 'http://schemas.microsoft.com/maml/dev/command/2004/10'
    dev     = 'http://schemas.microsoft.com/maml/dev/2004/10'
}

function Write-El($W, [string] $Prefix, [string] $Name, [string] $Text) {
    $W.WriteElementString($Prefix, $Name, $ns[$Prefix], $Text)
}

function Write-Paras($W, [string[]] $Paragraphs) {
    foreach ($p in $Paragraphs) { if ($null -ne $p) { Write-El $W maml para $p } }
}

function Write-Description($W, [string] $Prefix, [string[]] $Paragraphs) {
    $W.WriteStartElement($Prefix, 'description', $ns[$Prefix]); Write-Paras $W $Paragraphs; $W.WriteEndElement()
}

function Write-Type($W, [string] $TypeName) {
    $W.WriteStartElement('dev', 'type', $ns.dev)
    Write-El $W maml name $TypeName
    Write-El $W maml uri ''
    $W.WriteEndElement()
}

function Write-Parameter($W, $Parameter, $Variant, [string] $TypeName, [switch] $InSyntax) {
    $W.WriteStartElement('command', 'parameter', $ns.command)
    $W.WriteAttributeString('required', $Variant.Required.ToString().ToLowerInvariant())
    $W.WriteAttributeString('variableLength', 'true')
    $W.WriteAttributeString('globbing', $Variant.Globbing.ToString().ToLowerInvariant())
    $W.WriteAttributeString('pipelineInput', $Variant.Pipeline)
    $W.WriteAttributeString('position', $Variant.Position.ToLowerInvariant())
    $W.WriteAttributeString('aliases', $Variant.Aliases)
    Write-El $W maml name $Parameter.Name
    Write-Description $W maml $Parameter.Description
    $isSwitch = $TypeName -match '^(System\.Management\.Automation\.)?SwitchParameter$'
    if (-not ($InSyntax -and $isSwitch)) {
        $W.WriteStartElement('command', 'parameterValue', $ns.command)
        $W.WriteAttributeString('required', (-not $isSwitch).ToString().ToLowerInvariant())
        $W.WriteAttributeString('variableLength', 'false')
        $W.WriteString($TypeName)
        $W.WriteEndElement()
    }
    Write-Type $W $TypeName
    Write-El $W dev defaultValue $Variant.Default
    $W.WriteEndElement()
}

function Write-TypeList($W, $Section, [string] $ListName, [string] $ItemName) {
    $W.WriteStartElement('command', $ListName, $ns.command)
    if ($Section) {
        $entries = if ($Section.Subs.Count) { $Section.Subs } else {
            # "None" or a bare type name as the section's text
            @(Get-Paragraphs $Section.Lines | Select-Object -First 1 | ForEach-Object { @{ Title = $_; Lines = @() } })
        }
        foreach ($e in $entries) {
            $W.WriteStartElement('command', $ItemName, $ns.command)
            Write-Type $W $e.Title.Trim()
            Write-Description $W maml @(Get-Paragraphs $e.Lines)
            $W.WriteEndElement()
        }
    }
    $W.WriteEndElement()
}

function Write-Command($W, $Doc, [string] $File) {
    $name = $Doc.Title.Trim()
    $verb, $noun = $name -split '-', 2
    $S = $Doc.Sections
    $section = { param($n) if ($S.Contains($n)) { $S[$n] } }

    $W.WriteStartElement('command', 'command', $ns.command)
    $W.WriteAttributeString('xmlns', 'maml', $null, $ns.maml)
    $W.WriteAttributeString('xmlns', 'dev', $null, $ns.dev)
    $W.WriteAttributeString('xmlns', 'MSHelp', $null, 'http://msdn.microsoft.com/mshelp')

    $W.WriteStartElement('command', 'details', $ns.command)
    Write-El $W command name $name
    Write-El $W command verb $verb
    Write-El $W command noun $noun
    $syn = & $section 'SYNOPSIS'
    Write-Description $W maml @(if ($syn) { Get-Paragraphs $syn.Lines })
    $W.WriteEndElement()

    $desc = & $section 'DESCRIPTION'
    Write-Description $W maml @(if ($desc) { Get-Paragraphs $desc.Lines })

    # Parameters documented under ## PARAMETERS, in page order.
    $params = [ordered]@{}
    $ps = & $section 'PARAMETERS'
    if ($ps) {
        foreach ($sub in $ps.Subs) {
            if ($sub.Title -match '^-') { $p = Get-ParameterInfo $sub; $params[$p.Name] = $p }
        }
    }
    $lookup = {
        param($n, $type)
        $p = $params.Values | Where-Object Name -eq $n | Select-Object -First 1
        if (-not $p) {
            Write-Warning "${File}: parameter -$n is in SYNTAX but not under PARAMETERS"
            $p = [pscustomobject]@{ Name = $n; Description = @(); Variants = @([pscustomobject]@{
                        Type = $(if ($type) { $type } else { 'SwitchParameter' }); Sets = @('(All)'); Aliases = 'none'
                        Required = $false; Position = 'named'; Default = 'None'; Pipeline = 'False'; Globbing = $false
                    })
            }
        }
        $p
    }

    $W.WriteStartElement('command', 'syntax', $ns.command)
    $sy = & $section 'SYNTAX'
    if ($sy) {
        foreach ($set in (Get-SyntaxSets $sy)) {
            $W.WriteStartElement('command', 'syntaxItem', $ns.command)
            Write-El $W maml name $name
            foreach ($sp in $set.Parameters) {
                $p = & $lookup $sp.Name $sp.Type
                $v = Select-Variant $p $set.Set
                $type = if ($v.Type) { $v.Type } elseif ($sp.Type) { $sp.Type } else { 'SwitchParameter' }
                Write-Parameter $W $p $v $type -InSyntax
            }
            $W.WriteEndElement()
        }
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'parameters', $ns.command)
    foreach ($p in $params.Values) { Write-Parameter $W $p $p.Variants[0] $p.Variants[0].Type }
    $W.WriteEndElement()

    Write-TypeList $W (& $section 'INPUTS') 'inputTypes' 'inputType'
    Write-TypeList $W (& $section 'OUTPUTS') 'returnValues' 'returnValue'

    $W.WriteStartElement('maml', 'alertSet', $ns.maml)
    $notes = & $section 'NOTES'
    if ($notes) {
        $W.WriteStartElement('maml', 'alert', $ns.maml)
        Write-Paras $W @(Get-Paragraphs ($notes.Lines + @($notes.Subs | ForEach-Object { ''; $_.Title; ''; $_.Lines })))
        $W.WriteEndElement()
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'examples', $ns.command)
    $ex = & $section 'EXAMPLES'
    if ($ex) {
        foreach ($e in $ex.Subs) {
            $blocks = @(Split-Blocks $e.Lines)
            $firstCode = $blocks | Where-Object Kind -eq 'code' | Select-Object -First 1
            $W.WriteStartElement('command', 'example', $ns.command)
            Write-El $W maml title ("-------------------------- {0} --------------------------" -f $e.Title.Trim())
            Write-El $W dev code $(if ($firstCode) { $firstCode.Text } else { '' })
            $W.WriteStartElement('dev', 'remarks', $ns.dev)
            Write-Paras $W @($blocks | Where-Object { -not [object]::ReferenceEquals($_, $firstCode) } | ForEach-Object Text)
            $W.WriteEndElement()
            $W.WriteEndElement()
        }
    }
    $W.WriteEndElement()

    $W.WriteStartElement('command', 'relatedLinks', $ns.command)
    $links = & $section 'RELATED LINKS'
    if ($links) {
        foreach ($l in $links.Lines) {
            $text = $uri = $null
            if ($l -match '\[(?<t>[^\]]+)\]\((?<u>[^)]*)\)') { $text = $Matches.t; $uri = $Matches.u }
            elseif ($l -match '^\s*[-*+]?\s*(?<t>\S.*?)\s*$') { $text = $Matches.t; $uri = '' }
            else { continue }
            if ($uri -notmatch '^https?://') { $uri = '' }   # links to sibling .md pages carry no URI in MAML
            $W.WriteStartElement('maml', 'navigationLink', $ns.maml)
            Write-El $W maml linkText $text
            Write-El $W maml uri $uri
            $W.WriteEndElement()
        }
    }
    $W.WriteEndElement()

    $W.WriteEndElement() # command:command
}

#endregion

#region about topics

# Turns an about_*.md page (platyPS about template) into the plain-text layout of about_*.help.txt.
function ConvertTo-AboutText([string[]] $Lines, [string] $Topic) {
    $out = [Collections.Generic.List[string]]::new()
    $out.Add('TOPIC'); $out.Add("    $Topic"); $out.Add('')
    $inFence = $false; $seenSection = $false
    foreach ($line in $Lines) {
        if ($line -match '^\s*(```|~~~)') { $inFence = -not $inFence; continue }
        if ($inFence) { $out.Add('        ' + $line); continue }
        if ($line -match '^(#{1,6})\s+(.+?)\s*#*\s*$') {
            $level = $Matches[1].Length; $text = $Matches[2]
            # The page's own title lines ("# Sandbox", "## about_Sandbox") before its first section.
            if ($text -eq $Topic -or (-not $seenSection -and $text -cnotmatch '^[A-Z ]+$')) { continue }
            $seenSection = $true
            if ($out.Count -and $out[-1] -ne '') { $out.Add('') }
            if ($level -eq 1) { $out.Add($text.ToUpperInvariant()) }
            elseif ($level -eq 2) { $out.Add("    $text"); $out.Add('    ' + ('-' * $text.Length)) }
            else { $out.Add("    $text") }
            continue
        }
        if ($line.Trim() -eq '') { if ($out[-1] -ne '') { $out.Add('') }; continue }
        # Lines are kept as written (pages are wrapped at ~80 columns); only unwrapped prose is wrapped.
        $text = '    ' + $line.TrimEnd()
        if ($text.Length -le 100 -or $line -match '^(\s{4}|\t)') { $out.Add($text) }
        else { foreach ($w in (Format-Wrapped $text 80)) { $out.Add($w) } }
    }
    while ($out.Count -and $out[-1] -eq '') { $out.RemoveAt($out.Count - 1) }
    ($out -join [Environment]::NewLine) + [Environment]::NewLine
}

# Wraps one over-long line at spaces, keeping its indentation (and a list item's hanging indent).
function Format-Wrapped([string] $Line, [int] $Width) {
    if ($Line.Length -le $Width) { return , $Line }
    $null = $Line -match '^(\s*(?:[-*+]\s+|\d+[.)]\s+)?)'
    $lead = $Matches[1]; $hang = ' ' * $lead.Length
    $words = $Line.Substring($lead.Length) -split ' '
    $result = [Collections.Generic.List[string]]::new(); $cur = $lead
    foreach ($word in $words) {
        if ($cur.Trim() -and ($cur.Length + 1 + $word.Length) -gt $Width) { $result.Add($cur.TrimEnd()); $cur = $hang + $word }
        elseif ($cur.Trim()) { $cur += ' ' + $word }
        else { $cur += $word }
    }
    $result.Add($cur.TrimEnd())
    , $result
}

#endregion

$null = New-Item -ItemType Directory -Force -Path $OutputPath
$files = @{}   # help file name -> list of parsed pages
foreach ($md in Get-ChildItem -LiteralPath $Path -Filter *.md -File | Sort-Object Name) {
    $lines = @(Get-Content -LiteralPath $md.FullName -Encoding utf8)
    if ($md.BaseName -like 'about_*') {
        $txt = ConvertTo-AboutText $lines $md.BaseName
        $target = Join-Path $OutputPath "$($md.BaseName).help.txt"
        [IO.File]::WriteAllText($target, $txt, [Text.UTF8Encoding]::new($false))
        Write-Verbose "about topic: $target"
        continue
    }
    $fm = Split-FrontMatter $lines
    $doc = Split-Sections $fm.Body
    if (-not $doc.Title -or -not $doc.Sections.Contains('SYNTAX')) {
        Write-Verbose "skipped (not a cmdlet page): $($md.Name)"
        continue
    }
    $helpFile = if ($fm.Meta['external help file']) { $fm.Meta['external help file'] } else { $DefaultHelpFileName }
    if (-not $files.ContainsKey($helpFile)) { $files[$helpFile] = [Collections.Generic.List[object]]::new() }
    $files[$helpFile].Add(@{ Doc = $doc; File = $md.Name })
}

foreach ($helpFile in $files.Keys) {
    $target = Join-Path $OutputPath $helpFile
    $settings = [Xml.XmlWriterSettings]@{ Indent = $true; IndentChars = '  '; Encoding = [Text.UTF8Encoding]::new($false) }
    $w = [Xml.XmlWriter]::Create($target, $settings)
    try {
        $w.WriteStartDocument()
        $w.WriteStartElement('helpItems', 'http://msh')
        $w.WriteAttributeString('schema', 'maml')
        foreach ($page in $files[$helpFile]) { Write-Command $w $page.Doc $page.File }
        $w.WriteEndElement()
        $w.WriteEndDocument()
    } finally { $w.Dispose() }
    Write-Verbose "$($files[$helpFile].Count) cmdlet page(s): $target"
    Get-Item -LiteralPath $target
}
