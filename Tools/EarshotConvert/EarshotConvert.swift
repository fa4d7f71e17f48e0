// EarshotConvert: checkpoint → .ear conversion (library part of earshot-convert).
