// The costi executable's allocator for C++ objects: replaces the global operator new and
// operator delete of the `costi` program (and of nothing else: the libraries, the tests, the
// fuzzers and any program that links the interpreter keep the default allocator; not built
// under the sanitizers, whose runtimes replace operator new themselves).
//
// Why it exists (docs/performance.md, "Start-up"): a short `costi run` parses about 90 KB of
// library into some 9,000 small blocks and frees few of them. With glibc's malloc a quarter
// of its instructions went to malloc and free, and two thirds of its page faults to the heap
// growing a 4 KiB page at a time — on the virtual machines costi is measured on, the first
// touch of a page costs about 11 µs, more than the whole evaluation.
//
// How: one region of address space is reserved at the first allocation (nothing is committed
// until touched) and marked MADV_HUGEPAGE, so a kernel whose transparent huge pages are
// `always` or `madvise` backs it with 2 MiB pages: the start-up heap becomes a few faults.
// The region is cut into 64 KiB slabs, each serving one size class; a block's class is found
// from its slab, so blocks carry no header. Freed blocks go to their class's free list and
// are reused, so a long REPL session or sweep does not grow. What it does not own:
//  - blocks larger than the largest class (256 KiB) and over-aligned new
//    (`std::align_val_t`) go to glibc's malloc, as before;
//  - when the region is used up, or cannot be reserved (an address-space limit), new slabs
//    come from malloc's blocks instead — every pointer is told apart by the region's bounds.
// Memory a class has held is kept for that class (no return to the system before exit),
// which is what glibc's heap does too for small blocks.
#include <sys/mman.h>
#include <sys/single_threaded.h>

#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <thread>

namespace {

// 1 GiB of address space: far beyond any start-up, and a bound, so a runaway input falls back
// to malloc (and its memory limit) rather than taking the address space. Only touched pages
// are committed (MAP_NORESERVE).
constexpr std::size_t region_bytes = std::size_t{1} << 30;
constexpr std::size_t huge_page = std::size_t{2} << 20;
constexpr unsigned slab_shift = 16;  // 64 KiB slabs
constexpr std::size_t slab_bytes = std::size_t{1} << slab_shift;
constexpr std::size_t slab_count = region_bytes / slab_bytes;

// Size classes: multiples of 16 up to 1 KiB (64 classes), then four classes per doubling up
// to 256 KiB (32 classes): a block wastes at most a quarter of its size.
constexpr unsigned small_classes = 64;
constexpr std::size_t small_limit = 1024;
constexpr std::size_t largest_class = std::size_t{256} << 10;
constexpr unsigned class_count = small_classes + 8 * 4;

constexpr unsigned class_of(std::size_t n) {
    if (n <= small_limit) return n == 0 ? 0 : static_cast<unsigned>((n + 15) / 16 - 1);
    const unsigned k = static_cast<unsigned>(std::bit_width(n - 1)) - 1;  // 2^k < n <= 2^(k+1)
    const std::size_t step = (std::size_t{1} << k) / 4;
    const std::size_t i = (n - (std::size_t{1} << k) + step - 1) / step;  // 1..4
    return small_classes + (k - 10) * 4 + static_cast<unsigned>(i) - 1;
}

constexpr std::size_t class_size(unsigned c) {
    if (c < small_classes) return (std::size_t{c} + 1) * 16;
    const unsigned k = (c - small_classes) / 4 + 10;
    const std::size_t i = (c - small_classes) % 4 + 1;
    return (std::size_t{1} << k) + i * ((std::size_t{1} << k) / 4);
}

static_assert(class_of(1) == 0 && class_size(0) == 16);
static_assert(class_of(1024) == 63 && class_size(63) == 1024);
static_assert(class_of(1025) == 64 && class_size(64) == 1280);
static_assert(class_of(largest_class) == class_count - 1 && class_size(class_count - 1) == largest_class);

struct FreeBlock {
    FreeBlock* next;
};

struct ClassState {
    FreeBlock* free = nullptr;
    char* bump = nullptr;  // the next unused block of the class's current slab
    char* end = nullptr;
};

// All state is constant-initialised: operator new runs during static initialisation, before
// any constructor of this file could.
struct Heap {
    std::atomic_flag lock = ATOMIC_FLAG_INIT;
    bool reserved = false;  // the region was tried (it may have failed)
    char* base = nullptr;
    char* limit = nullptr;  // base + region_bytes, or nullptr without a region
    std::size_t next_slab = 0;
    ClassState classes[class_count] = {};
    unsigned char slab_class[slab_count] = {};
};

constinit Heap heap;

// A spin lock: the interpreter is single-threaded but for the device searches
// (interpreter/analysis.cpp), whose few threads rarely allocate at once. Until the process
// starts its first thread (glibc's __libc_single_threaded, which never turns back on) there
// is nothing to lock against, and the atomic exchange — some 20 cycles, on each of the
// 20,000 allocations and frees of a short run — is skipped, as glibc's malloc skips its own.
// A thread is only ever created outside this critical section, by the one thread there is.
class Guard {
public:
    Guard() : locked_(__libc_single_threaded == 0) {
        if (!locked_) return;
        while (heap.lock.test_and_set(std::memory_order_acquire)) std::this_thread::yield();
    }
    ~Guard() {
        if (locked_) heap.lock.clear(std::memory_order_release);
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;

private:
    bool locked_;
};

void reserve_region() {
    heap.reserved = true;
    void* p = mmap(nullptr, region_bytes + huge_page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return;
    const auto start = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t aligned = (start + huge_page - 1) & ~(std::uintptr_t{huge_page} - 1);
    heap.base = reinterpret_cast<char*>(aligned);
    heap.limit = heap.base + region_bytes;
    // Advice only: a kernel without transparent huge pages keeps 4 KiB pages.
    madvise(heap.base, region_bytes, MADV_HUGEPAGE);
}

bool in_region(const void* p) {
    const char* c = static_cast<const char*>(p);
    return heap.base != nullptr && c >= heap.base && c < heap.limit;
}

// Gives class c a new slab (or, for classes above 64 KiB, a run of slabs holding one block);
// false when the region cannot hold it.
bool refill(unsigned c) {
    const std::size_t size = class_size(c);
    const std::size_t slabs = size <= slab_bytes ? 1 : (size + slab_bytes - 1) / slab_bytes;
    if (heap.base == nullptr || heap.next_slab + slabs > slab_count) return false;
    char* start = heap.base + (heap.next_slab << slab_shift);
    heap.slab_class[heap.next_slab] = static_cast<unsigned char>(c);
    heap.next_slab += slabs;
    ClassState& s = heap.classes[c];
    s.bump = start;
    s.end = start + (slabs == 1 ? slab_bytes - slab_bytes % size : size);
    return true;
}

void* allocate(std::size_t n) {
    if (n <= largest_class) {
        const unsigned c = class_of(n);
        Guard guard;
        if (!heap.reserved) reserve_region();
        ClassState& s = heap.classes[c];
        if (s.free != nullptr) {
            FreeBlock* b = s.free;
            s.free = b->next;
            return b;
        }
        if (s.bump != s.end || refill(c)) {
            char* p = s.bump;
            s.bump += class_size(c);
            return p;
        }
    }
    if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
    throw std::bad_alloc();
}

void deallocate(void* p) noexcept {
    if (p == nullptr) return;
    if (!in_region(p)) {
        std::free(p);
        return;
    }
    Guard guard;
    const std::size_t slab = static_cast<std::size_t>(static_cast<char*>(p) - heap.base) >> slab_shift;
    ClassState& s = heap.classes[heap.slab_class[slab]];
    auto* b = static_cast<FreeBlock*>(p);
    b->next = s.free;
    s.free = b;
}

}  // namespace

void* operator new(std::size_t n) { return allocate(n); }
void* operator new[](std::size_t n) { return allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
    try {
        return allocate(n);
    } catch (...) {
        return nullptr;
    }
}
void operator delete(void* p) noexcept { deallocate(p); }
void operator delete[](void* p) noexcept { deallocate(p); }
void operator delete(void* p, std::size_t) noexcept { deallocate(p); }
void operator delete[](void* p, std::size_t) noexcept { deallocate(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { deallocate(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { deallocate(p); }
