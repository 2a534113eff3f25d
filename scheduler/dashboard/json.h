// Copyright 2026 The weft Authors.
//
// JsonWriter: builds compact JSON text (the dashboard's updates, the data
// of performance reports and traces). Commas and escaping are its job;
// the caller says what goes where:
//
//   JsonWriter j;
//   j.BeginObject();
//   j.Key("workers").Int(2);
//   j.Key("names").BeginArray().String("inc").String("add").EndArray();
//   j.EndObject();
//   std::string text = std::move(j).Take();   // {"workers":2,"names":[...]}
//
// Not thread-safe. Misuse (a value where a key is due, unbalanced ends) is
// not checked beyond debug asserts: the writers are small and tested.

#ifndef WEFT_SCHEDULER_DASHBOARD_JSON_H_
#define WEFT_SCHEDULER_DASHBOARD_JSON_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace weft::dashboard {

class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  // The key of the next member. REQUIRES: inside an object.
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  // Not-a-number and infinities are written as null (JSON has neither).
  JsonWriter& Double(double value);
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Inserts `json`, already valid JSON, as one value.
  JsonWriter& Raw(std::string_view json);

  // An array with an object per element of `items`; `write_members(item)`
  // writes that object's members (keys and values) into this writer.
  template <class Items, class WriteMembers>
  JsonWriter& ObjectArray(const Items& items, WriteMembers write_members) {
    BeginArray();
    for (const auto& item : items) {
      BeginObject();
      write_members(item);
      EndObject();
    }
    return EndArray();
  }

  const std::string& text() const { return out_; }
  std::string Take() && { return std::move(out_); }

 private:
  void BeforeValue();
  // Starts or ends an object or array with `bracket`.
  JsonWriter& Open(char bracket);
  JsonWriter& Close(char bracket);

  std::string out_;
  // Per open container: whether it has an element yet.
  std::vector<bool> has_element_;
  bool after_key_ = false;
};

// The shortest decimal text that reads back as `value`, in plain notation
// between 1e-6 and 1e15 ("0.0001", "123456789012"), else in exponent
// notation. REQUIRES: `value` is finite.
std::string ShortestDouble(double value);

// `s` as a JSON string literal, quotes included. "</" is written "<\/",
// so the text can sit inside an HTML <script> element.
std::string JsonQuote(std::string_view s);

}  // namespace weft::dashboard

#endif  // WEFT_SCHEDULER_DASHBOARD_JSON_H_
