// The costi executable's first act: map its own code and read-only data in one system call.
//
// Why (docs/performance.md, "Start-up"): a short `costi run` executes code spread over most
// of the 3 MB text segment, and the kernel maps a file's pages at the first touch of each
// 64 KiB window — some 40 page faults, each about as costly on the virtual machines costi is
// measured on as 30,000 instructions. madvise(MADV_POPULATE_READ) (Linux 5.14) maps the
// whole range at once, from the page cache, without a fault per window; the pages stay shared
// with every other costi process. The zero-filled .bss, touched page by page by the static
// constructors, is populated the same way for writing.
//
// How: a .preinit_array entry, which runs before every constructor (the executable's and the
// static C++ runtime's); dl_iterate_phdr names the executable's loaded segments first. A
// kernel without these advice values answers EINVAL, and nothing changes: it is an advice,
// never needed for correctness. Only the executable has it (tests, fuzzers, the Python module
// and libcosti do not link this file).
#include <link.h>
#include <sys/mman.h>

#include <cstdint>

namespace {

#ifndef MADV_POPULATE_READ
constexpr int MADV_POPULATE_READ = 22;
#endif
#ifndef MADV_POPULATE_WRITE
constexpr int MADV_POPULATE_WRITE = 23;
#endif

constexpr std::uintptr_t page = 4096;

void populate(std::uintptr_t begin, std::uintptr_t end, int advice) {
    begin &= ~(page - 1);
    end = (end + page - 1) & ~(page - 1);
    if (end > begin) (void)madvise(reinterpret_cast<void*>(begin), end - begin, advice);
}

int populate_executable(dl_phdr_info* info, std::size_t, void*) {
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const ElfW(Phdr)& p = info->dlpi_phdr[i];
        if (p.p_type != PT_LOAD) continue;
        const std::uintptr_t start = info->dlpi_addr + p.p_vaddr;
        if ((p.p_flags & PF_W) == 0) {
            populate(start, start + p.p_memsz, MADV_POPULATE_READ);
        } else if (p.p_memsz > p.p_filesz) {
            // .bss: from the first whole page past the file's bytes (the page they share is
            // already written by the relocations) to the end.
            populate(start + p.p_filesz + page - 1, start + p.p_memsz, MADV_POPULATE_WRITE);
        }
    }
    return 1;  // the first object is the executable: stop there
}

void prefault(int, char**, char**) {
    dl_iterate_phdr(populate_executable, nullptr);
}

__attribute__((used, section(".preinit_array"))) void (*prefault_entry)(int, char**, char**) = prefault;

}  // namespace
