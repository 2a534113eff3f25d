// Copyright 2026 The weft Authors.
//
// DumpLeakedObjects: what the objects LeakSanitizer would report hold, for
// leaks whose allocation stack says nothing (a library built without frame
// pointers allocated them: the report then stops at operator new). The
// first words of an object often name it: a C++ object's first word is its
// vtable, whose symbol is the class's; others are function pointers or
// pointers into named data.

#ifndef WEFT_FUZZ_LEAK_DUMP_H_
#define WEFT_FUZZ_LEAK_DUMP_H_

namespace weft::fuzz {

// If the environment names a file (WEFT_FUZZ_LEAK_DUMP=PATH) and the
// process runs under LeakSanitizer, runs a leak check now and appends to
// PATH, for every unreachable object (at most 64), its address, size, its
// first 8 words in hex and, for each word that points into a loaded
// object, the symbol dladdr() finds there. Otherwise does nothing. The
// process's own leak check at exit still runs and reports as usual.
//
// The check needs LSAN_OPTIONS=report_objects=1 to list the objects; the
// report itself goes to PATH.report.<pid>.
// REQUIRES: no other thread allocates or frees (call it at exit, after
// stopping every thread the process started).
void DumpLeakedObjects();

}  // namespace weft::fuzz

#endif  // WEFT_FUZZ_LEAK_DUMP_H_
