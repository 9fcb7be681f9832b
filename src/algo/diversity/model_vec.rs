//! The vector k-means sees for a sample's model embedding (`topics --embedding model`).
//!
//! A mean-pooled hidden state of a decoder model carries a large component shared by every
//! text and a norm that follows length and style more than meaning; scaling it to unit length
//! makes Euclidean k-means compare directions (cosine). A function of the one sample, so the
//! order of appends does not matter. A sample too short to be embedded (no values) is the zero
//! vector.

/// `values` scaled to unit Euclidean length (summed in f64), or `dim` zeros when `values` is
/// empty or all zero.
#[must_use]
pub fn model_topic_vector(values: &[f32], dim: usize) -> Vec<f32> {
    let norm = values
        .iter()
        .map(|&v| f64::from(v) * f64::from(v))
        .sum::<f64>()
        .sqrt();
    if values.is_empty() || norm == 0.0 || !norm.is_finite() {
        return vec![0.0; dim];
    }
    values
        .iter()
        .map(|&v| (f64::from(v) / norm) as f32)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_length_and_zero_for_nothing() {
        let v = model_topic_vector(&[3.0, 4.0], 2);
        assert_eq!(v, vec![0.6, 0.8]);
        assert_eq!(model_topic_vector(&[], 3), vec![0.0; 3]);
        assert_eq!(model_topic_vector(&[0.0, 0.0], 2), vec![0.0; 2]);
    }
}
