// errors_group_test.cpp — the ExceptionGroup toolkit (PEP 654):
// make_exception_group, subgroup/split (by type and by predicate), derive,
// and except_star, the C++ spelling of `except*`.
//
// Expected structures are what Python 3.13 prints for the same groups
// (repr() below renders a group as Python's repr does, with str args).
#include <gtest/gtest.h>

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "asyncio/errors.hpp"
#include "support/expect_throw_msg.hpp"

using namespace asyncio;

namespace {

template <class E>
std::exception_ptr ptr(E e) {
    return std::make_exception_ptr(std::move(e));
}

/// Python's repr() of the exception, for the kinds these tests use.
std::string repr(const std::exception_ptr& e) {
    if (!e) return "None";
    if (const BaseExceptionGroup* g = detail::as_group(e)) {
        std::string out =
            dynamic_cast<const ExceptionGroup*>(g) ? "ExceptionGroup" : "BaseExceptionGroup";
        out += "('" + g->message() + "', [";
        for (std::size_t i = 0; i < g->exceptions().size(); ++i) {
            if (i) out += ", ";
            out += repr(g->exceptions()[i]);
        }
        return out + "])";
    }
    const std::string what = support::what(e);
    std::string kind = "?";
    if (support::holds<ValueError>(e))
        kind = "ValueError";
    else if (support::holds<LookupError>(e))
        kind = "LookupError";
    else if (support::holds<RuntimeError>(e))
        kind = "RuntimeError";
    else if (support::holds<KeyboardInterrupt>(e))
        kind = "KeyboardInterrupt";
    else if (support::holds<CancelledError>(e))
        kind = "CancelledError";
    else if (support::holds<int>(e))
        kind = "int";
    return kind + "('" + what + "')";
}

const BaseExceptionGroup& group(const std::exception_ptr& e) {
    const BaseExceptionGroup* g = detail::as_group(e);
    if (!g) throw std::logic_error("not a group: " + repr(e));
    return *g;
}

/// The group of groups.py: eg = ExceptionGroup("eg", [v1, ExceptionGroup("inner",
/// [t2, v3]), ExceptionGroup("in2", [t4])]) with t = LookupError.
struct Sample {
    std::exception_ptr v1 = ptr(ValueError("1"));
    std::exception_ptr t2 = ptr(LookupError("2"));
    std::exception_ptr v3 = ptr(ValueError("3"));
    std::exception_ptr t4 = ptr(LookupError("4"));
    std::exception_ptr inner = make_exception_group("inner", {t2, v3});
    std::exception_ptr in2 = make_exception_group("in2", {t4});
    std::exception_ptr eg = make_exception_group("eg", {v1, inner, in2});
};

}  // namespace

// ------------------------------------------------------------ make_exception_group

TEST(make_exception_group, is_an_exception_group_when_every_member_is_a_std_exception) {
    const std::exception_ptr g =
        make_exception_group("m", {ptr(ValueError("v")), ptr(std::runtime_error("r"))});
    EXPECT_TRUE(support::holds<ExceptionGroup>(g));
    EXPECT_TRUE(support::holds<std::exception>(g));
    EXPECT_THROW_MSG(std::rethrow_exception(g), ExceptionGroup, "m (2 sub-exceptions)");
}

TEST(make_exception_group, is_a_base_exception_group_with_a_base_exception_member) {
    const std::exception_ptr g =
        make_exception_group("m", {ptr(ValueError("v")), ptr(KeyboardInterrupt())});
    EXPECT_TRUE(support::holds<BaseExceptionGroup>(g));
    EXPECT_FALSE(support::holds<ExceptionGroup>(g));
    EXPECT_FALSE(support::holds<std::exception>(g));
    EXPECT_THROW_MSG(std::rethrow_exception(g), BaseExceptionGroup, "m (2 sub-exceptions)");
}

TEST(make_exception_group, is_a_base_exception_group_with_a_non_exception_member) {
    // An API.md detail: a thrown int makes a BaseExceptionGroup.
    const std::exception_ptr g = make_exception_group("m", {ptr(42)});
    EXPECT_FALSE(support::holds<ExceptionGroup>(g));
    EXPECT_EQ(repr(g), "BaseExceptionGroup('m', [int('')])");
}

TEST(make_exception_group, nested_groups_count_by_their_own_kind) {
    const std::exception_ptr eg = make_exception_group("e", {ptr(ValueError("v"))});
    const std::exception_ptr beg = make_exception_group("b", {ptr(SystemExit())});
    EXPECT_TRUE(support::holds<ExceptionGroup>(make_exception_group("outer", {eg})));
    EXPECT_FALSE(support::holds<ExceptionGroup>(make_exception_group("outer", {eg, beg})));
}

TEST(make_exception_group, keeps_the_members_themselves) {
    const std::exception_ptr v = ptr(ValueError("v"));
    const std::exception_ptr g = make_exception_group("m", {v});
    ASSERT_EQ(group(g).exceptions().size(), 1u);
    EXPECT_TRUE(group(g).exceptions()[0] == v);
}

TEST(make_exception_group, rejects_no_members_and_null_members_with_pythons_messages) {
    // Python: BaseExceptionGroup("m", []) / BaseExceptionGroup("m", [v, None]).
    EXPECT_THROW_MSG(make_exception_group("m", {}), ValueError,
                     "second argument (exceptions) must be a non-empty sequence");
    EXPECT_THROW_MSG(make_exception_group("m", {ptr(ValueError("v")), nullptr}), ValueError,
                     "Item 1 of second argument (exceptions) is not an exception");
}

// ------------------------------------------------------------ subgroup and split

TEST(exception_group_subgroup, keeps_matching_leaves_and_nested_structure) {
    Sample s;
    // Python: ExceptionGroup('eg', [ValueError('1'), ExceptionGroup('inner', [ValueError('3')])])
    EXPECT_EQ(
        repr(group(s.eg).subgroup<ValueError>()),
        "ExceptionGroup('eg', [ValueError('1'), ExceptionGroup('inner', [ValueError('3')])])");
}

TEST(exception_group_subgroup, returns_the_very_leaf_objects) {
    Sample s;
    const std::exception_ptr m = group(s.eg).subgroup<ValueError>();
    EXPECT_TRUE(group(m).exceptions()[0] == s.v1);
    EXPECT_TRUE(group(group(m).exceptions()[1]).exceptions()[0] == s.v3);
}

TEST(exception_group_subgroup, is_null_when_nothing_matches) {
    Sample s;
    EXPECT_FALSE(group(s.eg).subgroup<RuntimeError>());
}

TEST(exception_group_subgroup, a_group_that_is_itself_an_e_matches_whole) {
    Sample s;
    // Python: eg.subgroup(ExceptionGroup) is eg; eg.subgroup(Exception) is eg.
    EXPECT_EQ(repr(group(s.eg).subgroup<ExceptionGroup>()), repr(s.eg));
    EXPECT_EQ(repr(group(s.eg).subgroup<std::exception>()), repr(s.eg));
    EXPECT_EQ(repr(group(s.eg).subgroup<BaseExceptionGroup>()), repr(s.eg));
    // A nested group that is an E goes whole, and keeps its own object.
    const std::exception_ptr outer =
        make_exception_group("outer", {ptr(KeyboardInterrupt()), s.inner});
    const std::exception_ptr m = group(outer).subgroup<ExceptionGroup>();
    EXPECT_EQ(
        repr(m),
        "ExceptionGroup('outer', [ExceptionGroup('inner', [LookupError('2'), ValueError('3')])])");
    EXPECT_TRUE(group(m).exceptions()[0] == s.inner);
}

TEST(exception_group_split, gives_match_and_rest_without_sharing_a_leaf) {
    Sample s;
    auto [match, rest] = group(s.eg).split<ValueError>();
    EXPECT_EQ(
        repr(match),
        "ExceptionGroup('eg', [ValueError('1'), ExceptionGroup('inner', [ValueError('3')])])");
    EXPECT_EQ(repr(rest),
              "ExceptionGroup('eg', [ExceptionGroup('inner', [LookupError('2')]), "
              "ExceptionGroup('in2', [LookupError('4')])])");
}

TEST(exception_group_split, nothing_matching_leaves_everything_in_the_rest) {
    Sample s;
    auto [match, rest] = group(s.eg).split<RuntimeError>();
    EXPECT_FALSE(match);
    EXPECT_EQ(repr(rest), repr(s.eg));
}

TEST(exception_group_split, everything_matching_leaves_no_rest) {
    Sample s;
    auto [match, rest] =
        group(s.eg).split<std::logic_error>();  // ValueError and LookupError both are
    EXPECT_EQ(repr(match), repr(s.eg));
    EXPECT_FALSE(rest);
}

TEST(exception_group_split, each_side_gets_the_kind_of_its_members) {
    // Python: BaseExceptionGroup('b', [ValueError('v'),
    // KeyboardInterrupt('k')]).split(KeyboardInterrupt)
    //   -> (BaseExceptionGroup('b', [KeyboardInterrupt('k')]), ExceptionGroup('b',
    //   [ValueError('v')]))
    const std::exception_ptr bg =
        make_exception_group("b", {ptr(ValueError("v")), ptr(KeyboardInterrupt("k"))});
    auto [match, rest] = group(bg).split<KeyboardInterrupt>();
    EXPECT_EQ(repr(match), "BaseExceptionGroup('b', [KeyboardInterrupt('k')])");
    EXPECT_EQ(repr(rest), "ExceptionGroup('b', [ValueError('v')])");
    EXPECT_TRUE(support::holds<std::exception>(rest));
    EXPECT_EQ(repr(group(bg).subgroup<ValueError>()), "ExceptionGroup('b', [ValueError('v')])");
}

TEST(exception_group_split, std_exception_is_pythons_exception_and_leaves_cancellation_out) {
    const std::exception_ptr bg =
        make_exception_group("b", {ptr(ValueError("v")), ptr(CancelledError("c"))});
    auto [match, rest] = group(bg).split<std::exception>();
    EXPECT_EQ(repr(match), "ExceptionGroup('b', [ValueError('v')])");
    EXPECT_EQ(repr(rest), "BaseExceptionGroup('b', [CancelledError('c')])");
}

TEST(exception_group_split, predicate_sees_nested_groups) {
    Sample s;
    // Python: eg.split(lambda e: isinstance(e, BaseExceptionGroup) and e.message == 'inner')
    auto [match, rest] = group(s.eg).split([](const std::exception_ptr& e) {
        const BaseExceptionGroup* g = detail::as_group(e);
        return g && g->message() == "inner";
    });
    EXPECT_EQ(
        repr(match),
        "ExceptionGroup('eg', [ExceptionGroup('inner', [LookupError('2'), ValueError('3')])])");
    EXPECT_EQ(repr(rest),
              "ExceptionGroup('eg', [ValueError('1'), ExceptionGroup('in2', [LookupError('4')])])");
}

TEST(exception_group_subgroup, predicate_is_asked_about_the_group_itself_first) {
    Sample s;
    std::vector<std::string> asked;
    const std::exception_ptr m = group(s.eg).subgroup([&](const std::exception_ptr& e) {
        asked.push_back(repr(e).substr(0, 20));
        return support::what(e) == "4";
    });
    EXPECT_EQ(repr(m), "ExceptionGroup('eg', [ExceptionGroup('in2', [LookupError('4')])])");
    ASSERT_FALSE(asked.empty());
    EXPECT_EQ(asked.front(), repr(s.eg).substr(0, 20));
    EXPECT_EQ(asked.size(), 7u);  // eg, v1, inner, t2, v3, in2, t4
    // Matching the whole group returns it whole.
    EXPECT_EQ(repr(group(s.eg).subgroup([](const std::exception_ptr&) { return true; })),
              repr(s.eg));
}

namespace {
/// A subclass that keeps its type through derive(), as Python documents.
class MyGroup : public ExceptionGroup {
public:
    MyGroup(std::string message, std::vector<std::exception_ptr> excs, int code)
        : ExceptionGroup(std::move(message), std::move(excs)), code_(code) {}
    std::exception_ptr derive(std::vector<std::exception_ptr> excs) const override {
        return std::make_exception_ptr(MyGroup(message(), std::move(excs), code_));
    }
    int code() const noexcept { return code_; }

private:
    int code_;
};
}  // namespace

TEST(exception_group_split, derive_override_keeps_a_subclass_and_its_fields) {
    const MyGroup g("mine", {ptr(ValueError("v")), ptr(LookupError("k"))}, 7);
    auto [match, rest] = g.split<ValueError>();
    try {
        std::rethrow_exception(match);
    } catch (const MyGroup& m) {
        EXPECT_EQ(m.code(), 7);
        EXPECT_EQ(m.exceptions().size(), 1u);
    }
    EXPECT_TRUE(support::holds<MyGroup>(rest));
    // Without an override, derive() makes a plain group of the right kind.
    const ExceptionGroup plain("p", {ptr(ValueError("v"))});
    EXPECT_EQ(repr(plain.derive({ptr(KeyboardInterrupt("k"))})),
              "BaseExceptionGroup('p', [KeyboardInterrupt('k')])");
}

// ------------------------------------------------------------ except_star

TEST(except_star, handles_the_matching_part_and_returns_the_rest) {
    // Python:
    //   try: raise ExceptionGroup("e", [ValueError(1), LookupError(2)])
    //   except* ValueError as g: print("h", repr(g))   -> h ExceptionGroup('e', [ValueError(1)])
    //   -> the rest ExceptionGroup('e', [LookupError(2)]) propagates
    const std::exception_ptr eg =
        make_exception_group("e", {ptr(ValueError("1")), ptr(LookupError("2"))});
    std::string handled;
    const std::exception_ptr rest = except_star<ValueError>(eg, [&](const BaseExceptionGroup& g) {
        handled = repr(std::make_exception_ptr(dynamic_cast<const ExceptionGroup&>(g)));
    });
    EXPECT_EQ(handled, "ExceptionGroup('e', [ValueError('1')])");
    EXPECT_EQ(repr(rest), "ExceptionGroup('e', [LookupError('2')])");
}

TEST(except_star, returns_null_when_everything_was_handled) {
    const std::exception_ptr eg = make_exception_group("e", {ptr(ValueError("1"))});
    int calls = 0;
    EXPECT_FALSE(except_star<ValueError>(eg, [&](const BaseExceptionGroup&) { ++calls; }));
    EXPECT_EQ(calls, 1);
}

TEST(except_star, does_not_call_the_handler_when_nothing_matches) {
    const std::exception_ptr eg = make_exception_group("e", {ptr(LookupError("1"))});
    int calls = 0;
    const std::exception_ptr rest =
        except_star<ValueError>(eg, [&](const BaseExceptionGroup&) { ++calls; });
    EXPECT_EQ(calls, 0);
    EXPECT_TRUE(rest == eg);  // the very same exception
    EXPECT_FALSE(except_star<ValueError>(nullptr, [&](const BaseExceptionGroup&) { ++calls; }));
    EXPECT_EQ(calls, 0);
}

TEST(except_star, wraps_a_matching_naked_exception_in_a_group) {
    // Python: try: raise ValueError("naked") / except* ValueError as g:
    //   g == ExceptionGroup('', (ValueError('naked'),))
    const std::exception_ptr naked = ptr(ValueError("naked"));
    std::string handled;
    bool same_leaf = false;
    const std::exception_ptr rest =
        except_star<ValueError>(naked, [&](const BaseExceptionGroup& g) {
            handled =
                std::string(dynamic_cast<const ExceptionGroup*>(&g) ? "ExceptionGroup" : "?") +
                "('" + g.message() + "', " + std::to_string(g.exceptions().size()) + ")";
            same_leaf = g.exceptions()[0] == naked;
        });
    EXPECT_EQ(handled, "ExceptionGroup('', 1)");
    EXPECT_TRUE(same_leaf);
    EXPECT_FALSE(rest);
}

TEST(except_star, leaves_a_non_matching_naked_exception_alone) {
    // Python: try: raise LookupError("naked") / except* ValueError: ... -> LookupError('naked')
    // propagates
    const std::exception_ptr naked = ptr(LookupError("naked"));
    const std::exception_ptr rest =
        except_star<ValueError>(naked, [](const BaseExceptionGroup&) { FAIL(); });
    EXPECT_TRUE(rest == naked);
}

TEST(except_star, clauses_chain_through_the_rest) {
    const std::exception_ptr eg = make_exception_group(
        "e", {ptr(ValueError("1")), ptr(LookupError("2")), ptr(KeyboardInterrupt("3"))});
    std::vector<std::string> seen;
    std::exception_ptr rest =
        except_star<ValueError>(eg, [&](const BaseExceptionGroup& g) { seen.push_back(g.what()); });
    rest = except_star<LookupError>(rest,
                                    [&](const BaseExceptionGroup& g) { seen.push_back(g.what()); });
    EXPECT_EQ(seen, (std::vector<std::string>{"e (1 sub-exception)", "e (1 sub-exception)"}));
    EXPECT_EQ(repr(rest), "BaseExceptionGroup('e', [KeyboardInterrupt('3')])");
    rest = except_star<KeyboardInterrupt>(rest, [&](const BaseExceptionGroup& g) {
        EXPECT_EQ(dynamic_cast<const ExceptionGroup*>(&g), nullptr);  // a BaseExceptionGroup
    });
    EXPECT_FALSE(rest);
}

TEST(except_star, an_exception_from_the_handler_is_grouped_with_the_rest) {
    // Python: except* ValueError: raise KeyError("new")  (with a LookupError left unhandled)
    //   -> ExceptionGroup('', [KeyError('new'), ExceptionGroup('e', [TypeError(2)])])
    const std::exception_ptr eg =
        make_exception_group("e", {ptr(ValueError("1")), ptr(LookupError("2"))});
    try {
        (void)except_star<ValueError>(eg,
                                      [](const BaseExceptionGroup&) { throw RuntimeError("new"); });
        FAIL() << "nothing thrown";
    } catch (const ExceptionGroup&) {
        EXPECT_EQ(
            repr(std::current_exception()),
            "ExceptionGroup('', [RuntimeError('new'), ExceptionGroup('e', [LookupError('2')])])");
    }
}

TEST(except_star, an_exception_from_the_handler_propagates_alone_when_nothing_is_left) {
    // Python: except* ValueError: raise KeyError('k')  ->  KeyError('k') itself
    const std::exception_ptr eg = make_exception_group("e", {ptr(ValueError("1"))});
    EXPECT_THROW_MSG((void)except_star<ValueError>(
                         eg, [](const BaseExceptionGroup&) { throw RuntimeError("k"); }),
                     RuntimeError, "k");
    EXPECT_THROW_MSG(
        (void)except_star<ValueError>(ptr(ValueError("n")),
                                      [](const BaseExceptionGroup&) { throw RuntimeError("k"); }),
        RuntimeError, "k");
}

TEST(except_star, a_bare_rethrow_in_the_handler_rethrows_the_original) {
    // Python's bare `raise` in except* re-raises the original structure.
    const std::exception_ptr eg =
        make_exception_group("e", {ptr(ValueError("1")), ptr(LookupError("2"))});
    try {
        std::rethrow_exception(eg);
    } catch (...) {
        try {
            (void)except_star<ValueError>(std::current_exception(),
                                          [](const BaseExceptionGroup&) { throw; });
            FAIL() << "nothing thrown";
        } catch (...) {
            EXPECT_TRUE(std::current_exception() == eg);
        }
    }
}

TEST(except_star, reads_like_an_except_star_clause_in_a_catch_block) {
    int values = 0;
    std::exception_ptr left;
    try {
        throw ExceptionGroup("batch",
                             {ptr(ValueError("a")), ptr(ValueError("b")), ptr(LookupError("c"))});
    } catch (...) {
        left = except_star<ValueError>(std::current_exception(), [&](const BaseExceptionGroup& g) {
            values = static_cast<int>(g.exceptions().size());
        });
    }
    EXPECT_EQ(values, 2);
    EXPECT_EQ(repr(left), "ExceptionGroup('batch', [LookupError('c')])");
}
