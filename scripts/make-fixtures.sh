#!/bin/sh
# Regenerates tests/fixtures/csv/ : one sheet (source/sheet.csv, UTF-8,
# comma, LF) saved through LibreOffice the way spreadsheet programs save
# CSV, in every encoding, separator and line end the importer reads. The
# files are committed; rerun this only when the sheet changes.
#
# LibreOffice's CSV filter options are: separator (ASCII code), quote
# (ASCII code), character set (rtl_TextEncoding: 76 UTF-8, 1 Windows-1252,
# 2 Mac Roman, 65535 UTF-16 LE with BOM), first line, column formats,
# language, "quote all text cells" (false: quote only where needed, as
# Excel does). LibreOffice 7.4 writes LF and no UTF-8 BOM, so CRLF, CR
# alone and the BOM are added afterwards (perl), and UTF-16 BE is made
# from UTF-16 LE with iconv. In-cell line breaks get the same line end as
# the rows: the hardest case for the row numbers.
#
#   file                                what writes it that way
#   utf8_bom_semicolon_crlf.csv         Dutch/Indonesian Excel, "CSV UTF-8"
#   windows1252_semicolon_crlf.csv      Dutch/Indonesian Excel, plain "CSV" (Windows)
#   windows1252_comma_crlf.csv          English Excel, plain "CSV" (Windows)
#   macroman_comma_cr.csv               Excel for Mac "Comma Separated Values", classic Mac
#   macroman_semicolon_lf.csv           Mac Roman without the CR evidence
#   utf16le_tab_crlf.csv                Excel "Unicode Text" (UTF-16 LE with BOM, tab)
#   utf16be_tab_crlf.csv                UTF-16 BE with BOM
#   utf8_comma_lf.csv                   LibreOffice, Numbers
#   utf8_comma_crlf.csv                 Google Sheets
#   utf8_comma_cr.csv                   UTF-8 with CR alone
set -eu
cd "$(dirname "$0")/../tests/fixtures/csv"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# save NAME SEPARATOR CHARSET
save() {
    soffice --headless -env:UserInstallation="file://$tmp/profile" \
        --infilter='CSV:44,34,76,1' \
        --convert-to "csv:Text - txt - csv (StarCalc):$2,34,$3,1,,,false" \
        --outdir "$tmp" source/sheet.csv >/dev/null 2>&1
    mv "$tmp/sheet.csv" "$1"
}
crlf() { perl -pi -e 's/\n/\r\n/g' "$1"; }
cr() { perl -pi -e 's/\n/\r/g' "$1"; }
bom() { printf '\357\273\277' | cat - "$1" > "$tmp/bom" && mv "$tmp/bom" "$1"; }

save utf8_bom_semicolon_crlf.csv 59 76 && crlf utf8_bom_semicolon_crlf.csv && bom utf8_bom_semicolon_crlf.csv
save windows1252_semicolon_crlf.csv 59 1 && crlf windows1252_semicolon_crlf.csv
save windows1252_comma_crlf.csv 44 1 && crlf windows1252_comma_crlf.csv
save macroman_comma_cr.csv 44 2 && cr macroman_comma_cr.csv
save macroman_semicolon_lf.csv 59 2
save utf8_comma_lf.csv 44 76
save utf8_comma_crlf.csv 44 76 && crlf utf8_comma_crlf.csv
save utf8_comma_cr.csv 44 76 && cr utf8_comma_cr.csv
# UTF-16: line ends are converted on UTF-8 first, then encoded.
save "$tmp/tab.csv" 9 76 && crlf "$tmp/tab.csv"
{ printf '\377\376'; iconv -f UTF-8 -t UTF-16LE "$tmp/tab.csv"; } > utf16le_tab_crlf.csv
{ printf '\376\377'; iconv -f UTF-8 -t UTF-16BE "$tmp/tab.csv"; } > utf16be_tab_crlf.csv
ls -l ./*.csv
