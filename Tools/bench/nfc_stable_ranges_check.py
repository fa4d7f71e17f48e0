#!/usr/bin/env python3
# Checks the "stable" ranges of Sources/EarshotTokenizer/NFC.swift against Python unicodedata: every code point
# must have ccc 0, be its own NFC, not be the 2nd character of a canonical pair, not decompose to a non-starter.
# Prints the Unicode version, the offending code points (first 50) and their count (0 expected).
import unicodedata, sys
ranges = [(0x0000,0x02FF),(0x0400,0x0482),(0x048A,0x052F),(0x05D0,0x05EA),(0x0620,0x064A),(0x0660,0x0669),(0x0671,0x06D3),
 (0x0904,0x0939),(0x0966,0x096F),(0x0E01,0x0E30),(0x0E32,0x0E33),(0x0E3F,0x0E46),(0x0E4F,0x0E5B),(0x1100,0x1112),
 (0x1E00,0x1EFF),(0x200B,0x200F),(0x2010,0x2027),(0x2030,0x205E),(0x20A0,0x20C0),(0x2190,0x2328),(0x232B,0x23FF),
 (0x2500,0x27BF),(0x3000,0x3029),(0x3030,0x303F),(0x3041,0x3096),(0x309D,0x309F),(0x30A0,0x30FF),(0x3131,0x318E),
 (0x3400,0x4DBF),(0x4E00,0x9FFF),(0xAC00,0xD7A3),(0xE000,0xF8FF),(0xFE00,0xFE0F),(0xFF01,0xFFEE),
 (0x1F000,0x1FAFF),(0x20000,0x2A6DF),(0x2A700,0x2EBE0),(0x30000,0x3134A),(0xE0000,0xE007F)]
# second elements of canonical pair decompositions (candidates for NFC_QC=Maybe)
second=set(); 
for cp in range(0x110000):
    d=unicodedata.decomposition(chr(cp))
    if d and not d.startswith('<'):
        parts=[int(x,16) for x in d.split()]
        if len(parts)==2: second.add(parts[1])
bad=[]
for a,b in ranges:
    for cp in range(a,b+1):
        if 0xD800<=cp<0xE000: continue
        c=chr(cp)
        if unicodedata.combining(c)!=0 or unicodedata.normalize('NFC',c)!=c or cp in second or unicodedata.normalize('NFD',c)[0]!=unicodedata.normalize('NFD',c)[0] :
            bad.append(cp)
        # decomposition starting with a non-starter
        dd=unicodedata.normalize('NFD',c)
        if unicodedata.combining(dd[0])!=0: bad.append(cp)
print(unicodedata.unidata_version, [hex(x) for x in bad[:50]], len(bad))
