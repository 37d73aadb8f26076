// repl/heap.cpp, the costi executable's operator new, linked into this test binary alone:
// every allocation of GoogleTest and of the tests below goes through it.
#include <gmp.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <set>
#include <thread>
#include <vector>

namespace costi::heap {
std::size_t slabs_taken() noexcept;  // repl/heap.cpp
}

namespace {

// A block filled with a pattern derived from its address and size, checked before it is freed:
// two live blocks that overlapped, or a block handed out twice, would break a pattern.
struct Block {
    unsigned char* p;
    std::size_t n;
};

unsigned char pattern(const Block& b, std::size_t i) {
    return static_cast<unsigned char>((reinterpret_cast<std::uintptr_t>(b.p) >> 4) + b.n + i * 7);
}

void fill(const Block& b) {
    for (std::size_t i = 0; i < b.n; ++i) b.p[i] = pattern(b, i);
}

bool intact(const Block& b) {
    for (std::size_t i = 0; i < b.n; ++i)
        if (b.p[i] != pattern(b, i)) return false;
    return true;
}

// Sizes across every class boundary (16-byte steps to 1 KiB, four per doubling to 256 KiB)
// and beyond the largest class, where malloc serves.
std::size_t random_size(std::mt19937_64& rng) {
    const auto pick = rng() % 32;
    if (pick < 12) return rng() % 64;
    if (pick < 24) return 1 + rng() % 1100;
    if (pick < 31) return 1000 + rng() % 70'000;
    return 1 + rng() % (300u << 10);
}

void churn(std::uint64_t seed, int rounds, bool* ok) {
    std::mt19937_64 rng(seed);
    std::vector<Block> live;
    for (int r = 0; r < rounds; ++r) {
        if (live.empty() || rng() % 3 != 0) {
            const std::size_t n = random_size(rng);
            Block b{static_cast<unsigned char*>(::operator new(n)), n};
            fill(b);
            live.push_back(b);
        } else {
            const std::size_t i = rng() % live.size();
            if (!intact(live[i])) *ok = false;
            if (rng() % 2 == 0) {
                ::operator delete(live[i].p, live[i].n);
            } else {
                ::operator delete(live[i].p);
            }
            live[i] = live.back();
            live.pop_back();
        }
    }
    for (const Block& b : live) {
        if (!intact(b)) *ok = false;
        ::operator delete(b.p);
    }
}

TEST(Heap, BlocksAreAlignedAndDistinct) {
    std::vector<void*> blocks;
    std::set<void*> seen;
    for (std::size_t n : {0u, 1u, 15u, 16u, 17u, 1024u, 1025u, 4096u, 65'536u, 65'537u, 262'144u, 262'145u}) {
        void* p = ::operator new(n);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % 16, 0u) << n;
        EXPECT_TRUE(seen.insert(p).second) << n;
        blocks.push_back(p);
    }
    for (void* p : blocks) ::operator delete(p);
}

TEST(Heap, FreedBlockIsReusedByItsClass) {
    // 24 and 32 bytes share the 32-byte class; 48 does not.
    void* a = ::operator new(24);
    ::operator delete(a);
    void* b = ::operator new(32);
    EXPECT_EQ(a, b);
    ::operator delete(b);
    void* c = ::operator new(48);
    EXPECT_NE(a, c);
    ::operator delete(c);
    // A class above one slab (96 KiB rounds to 96 KiB: 64 KiB + two quarters).
    void* d = ::operator new(90'000);
    ::operator delete(d);
    void* e = ::operator new(98'304);
    EXPECT_EQ(d, e);
    ::operator delete(e);
}

TEST(Heap, ContainersSurviveChurn) {
    bool ok = true;
    churn(1, 20'000, &ok);
    EXPECT_TRUE(ok);
    std::vector<std::unique_ptr<std::vector<int>>> vs;
    for (int i = 0; i < 2000; ++i) {
        vs.push_back(std::make_unique<std::vector<int>>(static_cast<std::size_t>(i), i));
    }
    for (int i = 0; i < 2000; ++i) {
        const auto& v = *vs[static_cast<std::size_t>(i)];
        ASSERT_EQ(v.size(), static_cast<std::size_t>(i));
        EXPECT_TRUE(std::all_of(v.begin(), v.end(), [i](int x) { return x == i; }));
    }
}

TEST(Heap, ThreadsAllocateAtOnce) {
    bool ok[4] = {true, true, true, true};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) threads.emplace_back(churn, 100 + t, 10'000, &ok[t]);
    for (auto& th : threads) th.join();
    for (bool b : ok) EXPECT_TRUE(b);
}

// GMP's limbs come from the heap too (mp_set_memory_functions at start-up). A number grown
// limb by limb reallocates through every class up to 256 KiB and then into malloc's blocks,
// and shrinks back: its value is checked against one computed independently at each size.
TEST(Heap, GmpNumbersLiveInTheHeap) {
    void* (*alloc)(std::size_t) = nullptr;
    void* (*realloc)(void*, std::size_t, std::size_t) = nullptr;
    void (*free)(void*, std::size_t) = nullptr;
    mp_get_memory_functions(&alloc, &realloc, &free);
    void* probe = alloc(40);
    void* same_class = ::operator new(40);  // the block the heap hands out next in that class
    ::operator delete(same_class);
    free(probe, 40);
    void* reused = ::operator new(40);
    EXPECT_EQ(reused, probe) << "GMP's free returns its block to the heap's class";
    ::operator delete(reused);
    mpz_t x;
    mpz_init_set_ui(x, 1);
    for (unsigned bits = 64; bits <= (std::size_t{3} << 20) * 8; bits *= 2) {
        mpz_mul_2exp(x, x, bits - mpz_sizeinbase(x, 2) + 1);  // x = 2^bits
        ASSERT_EQ(mpz_sizeinbase(x, 2), bits + 1);
        ASSERT_EQ(mpz_scan1(x, 0), bits);
        mpz_sub_ui(x, x, 1);  // 2^bits - 1: every bit set
        ASSERT_EQ(mpz_popcount(x), bits);
        mpz_add_ui(x, x, 1);
    }
    mpz_set_ui(x, 12345);
    mpz_realloc2(x, 64);  // shrinks the 3 MiB block back to one limb
    EXPECT_EQ(mpz_get_ui(x), 12345u);
    mpz_t y;
    mpz_init_set_str(y, "123456789012345678901234567890", 10);
    mpz_mul(y, y, y);
    char* text = mpz_get_str(nullptr, 10, y);
    EXPECT_EQ(std::string(text), "15241578753238836750495351562536198787501905199875019052100");
    free(text, std::strlen(text) + 1);
    mpz_clear(y);
    mpz_clear(x);
}

// Threads keep their own lists; when they end, their blocks go to the threads that come
// next (the decode steps of one request after another in a REPL session). Rounds of four
// threads, each allocating and freeing 20,000 blocks of 48 bytes: 40 more rounds take fewer
// new slabs than one round needs.
TEST(Heap, EndedThreadsHandTheirBlocksOn) {
    auto round = [] {
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([] {
                std::vector<void*> blocks;
                blocks.reserve(20'000);
                for (int i = 0; i < 20'000; ++i) blocks.push_back(::operator new(48));
                for (void* p : blocks) ::operator delete(p);
            });
        }
        for (auto& t : threads) t.join();
    };
    round();
    const std::size_t after_one = costi::heap::slabs_taken();
    for (int r = 0; r < 40; ++r) round();
    // One round needs 4 · 15 = 60 slabs (20,000 · 48 B is 14.6 slabs of 64 KiB a thread):
    // 40 rounds that took their own would take 2,400.
    EXPECT_LT(costi::heap::slabs_taken() - after_one, 60u);
}

// Blocks that threads allocate and another thread frees (a request's decode threads make
// the step results the main thread frees): a thread's list keeps at most two slabs' worth of
// a class and passes the rest on, so rounds of this take fewer new slabs than one round needs.
TEST(Heap, BlocksFreedByAnotherThreadArePassedOn) {
    auto round = [] {
        std::vector<std::vector<void*>> made(4);
        std::vector<std::thread> threads;
        for (int t = 0; t < 4; ++t) {
            threads.emplace_back([&made, t] {
                made[static_cast<std::size_t>(t)].reserve(20'000);
                for (int i = 0; i < 20'000; ++i) made[static_cast<std::size_t>(t)].push_back(::operator new(48));
            });
        }
        for (auto& th : threads) th.join();
        for (const auto& blocks : made)
            for (void* p : blocks) ::operator delete(p);  // here, on the main thread
    };
    round();
    const std::size_t after_one = costi::heap::slabs_taken();
    for (int r = 0; r < 40; ++r) round();
    EXPECT_LT(costi::heap::slabs_taken() - after_one, 60u);  // one round: 4 · 15 slabs
}

TEST(Heap, NothrowNewReturnsMemory) {
    void* p = ::operator new(100, std::nothrow);
    ASSERT_NE(p, nullptr);
    std::memset(p, 1, 100);
    ::operator delete(p, std::nothrow);
}

}  // namespace
