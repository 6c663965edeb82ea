#include "model.h"

namespace llmops::engine {

namespace {
template <class Weights, class View>
std::vector<View*> views_of(Weights& w) {
  std::vector<View*> views = {&w.token_embd, &w.output_norm, &w.output};
  if (w.rope_freqs.data != nullptr) views.push_back(&w.rope_freqs);
  views.reserve(4 + 16 * w.layers.size());
  for (auto& l : w.layers) {
    for (View* v :
         {&l.attn_norm, &l.wq, &l.wk, &l.wv, &l.wo, &l.ffn_norm, &l.w_gate, &l.w_up, &l.w_down}) {
      views.push_back(v);
    }
    for (View* v :
         {&l.bq, &l.bk, &l.bv, &l.q_norm, &l.k_norm, &l.post_attn_norm, &l.post_ffn_norm}) {
      if (v->data != nullptr) views.push_back(v);
    }
  }
  return views;
}
}  // namespace

std::vector<TensorView*> ModelWeights::views() {
  return views_of<ModelWeights, TensorView>(*this);
}

std::vector<const TensorView*> ModelWeights::views() const {
  return views_of<const ModelWeights, const TensorView>(*this);
}

}  // namespace llmops::engine
