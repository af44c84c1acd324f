//! `multipart/form-data` (RFC 7578) as a browser sends a form with a file:
//! the statement upload. Read whole; a malformed body is refused naming what
//! is wrong. Explicit limits: [`PARTS_MAX`] parts.

/// Parts read at most.
pub const PARTS_MAX: usize = 16;

/// One field of the form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    /// Set for a file field (possibly empty when no file was chosen).
    pub filename: Option<String>,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MultipartError {
    #[error("the form was not sent as multipart/form-data with a boundary")]
    NotMultipart,
    #[error("the form's body is not well-formed multipart: {0}")]
    Malformed(&'static str),
    #[error("the form has more than {PARTS_MAX} parts")]
    TooManyParts,
}

/// The boundary of a `multipart/form-data; boundary=...` media type.
pub fn boundary(content_type: &str) -> Result<String, MultipartError> {
    let mut params = content_type.split(';');
    if !params.next().is_some_and(|kind| kind.trim().eq_ignore_ascii_case("multipart/form-data")) {
        return Err(MultipartError::NotMultipart);
    }
    params
        .filter_map(|param| param.trim().split_once('='))
        .find(|(key, _)| key.trim().eq_ignore_ascii_case("boundary"))
        .map(|(_, value)| value.trim().trim_matches('"').to_owned())
        .filter(|value| !value.is_empty() && value.len() <= 70)
        .ok_or(MultipartError::NotMultipart)
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    haystack.get(from..)?.windows(needle.len()).position(|window| window == needle).map(|at| at + from)
}

/// A `key="value"` parameter of a Content-Disposition header.
fn disposition_param(header: &str, key: &str) -> Option<String> {
    header.split(';').skip(1).filter_map(|param| param.trim().split_once('=')).find(|(k, _)| k.trim().eq_ignore_ascii_case(key)).map(|(_, v)| {
        let v = v.trim();
        v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v).replace("\\\"", "\"")
    })
}

/// The parts of `body`, sent with `content_type`.
pub fn parse(content_type: &str, body: &[u8]) -> Result<Vec<Part>, MultipartError> {
    let boundary = boundary(content_type)?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut at = find(body, &delimiter, 0).ok_or(MultipartError::Malformed("no boundary line"))? + delimiter.len();
    let mut parts = Vec::new();
    loop {
        if body.get(at..at + 2) == Some(b"--") {
            return Ok(parts);
        }
        if body.get(at..at + 2) != Some(b"\r\n") {
            return Err(MultipartError::Malformed("a boundary line does not end in CRLF"));
        }
        at += 2;
        let headers_end = find(body, b"\r\n\r\n", at).ok_or(MultipartError::Malformed("a part has no blank line after its headers"))?;
        let headers = std::str::from_utf8(&body[at..headers_end]).map_err(|_| MultipartError::Malformed("a part's headers are not UTF-8"))?;
        let mut name = None;
        let mut filename = None;
        let mut content_type = None;
        for line in headers.split("\r\n") {
            let Some((key, value)) = line.split_once(':') else { continue };
            if key.trim().eq_ignore_ascii_case("content-disposition") {
                name = disposition_param(value, "name");
                filename = disposition_param(value, "filename");
            } else if key.trim().eq_ignore_ascii_case("content-type") {
                content_type = Some(value.trim().to_owned());
            }
        }
        let data_start = headers_end + 4;
        let mut closing = b"\r\n".to_vec();
        closing.extend_from_slice(&delimiter);
        let data_end = find(body, &closing, data_start).ok_or(MultipartError::Malformed("a part is not closed by the boundary"))?;
        if parts.len() == PARTS_MAX {
            return Err(MultipartError::TooManyParts);
        }
        parts.push(Part {
            name: name.ok_or(MultipartError::Malformed("a part has no name"))?,
            filename,
            content_type,
            data: body[data_start..data_end].to_vec(),
        });
        at = data_end + closing.len();
    }
}

/// The text of the field `name`, if sent.
pub fn text<'a>(parts: &'a [Part], name: &str) -> Option<&'a str> {
    parts.iter().find(|part| part.name == name && part.filename.is_none()).and_then(|part| std::str::from_utf8(&part.data).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TYPE: &str = "multipart/form-data; boundary=----WebKitFormBoundaryX1";

    fn body() -> Vec<u8> {
        b"------WebKitFormBoundaryX1\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\nabc\r\n\
------WebKitFormBoundaryX1\r\nContent-Disposition: form-data; name=\"statement\"; filename=\"day.bai\"\r\nContent-Type: application/octet-stream\r\n\r\n\
01,121000248/\r\n02,PAYER/\r\n\r\n------WebKitFormBoundaryX1--\r\n"
            .to_vec()
    }

    #[test]
    fn a_browsers_form_with_a_file_is_read_field_by_field() {
        let parts = parse(TYPE, &body()).unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(text(&parts, "csrf_token"), Some("abc"));
        let file = &parts[1];
        assert_eq!((file.name.as_str(), file.filename.as_deref()), ("statement", Some("day.bai")));
        assert_eq!(file.content_type.as_deref(), Some("application/octet-stream"));
        // The file's own line breaks are kept; only the one before the boundary is the delimiter's.
        assert_eq!(file.data, b"01,121000248/\r\n02,PAYER/\r\n");
    }

    #[test]
    fn a_body_that_is_not_multipart_is_refused_saying_why() {
        assert_eq!(parse("application/x-www-form-urlencoded", b"a=b"), Err(MultipartError::NotMultipart));
        assert_eq!(parse("multipart/form-data", b""), Err(MultipartError::NotMultipart));
        assert_eq!(parse(TYPE, b"no boundary here"), Err(MultipartError::Malformed("no boundary line")));
        let cut = &body()[..90];
        assert!(matches!(parse(TYPE, cut), Err(MultipartError::Malformed(_))));
        let many: Vec<u8> = (0..=PARTS_MAX)
            .flat_map(|n| format!("------WebKitFormBoundaryX1\r\nContent-Disposition: form-data; name=\"f{n}\"\r\n\r\nx\r\n").into_bytes())
            .chain(b"------WebKitFormBoundaryX1--".to_vec())
            .collect();
        assert_eq!(parse(TYPE, &many), Err(MultipartError::TooManyParts));
    }

    #[test]
    fn the_boundary_may_be_quoted() {
        assert_eq!(boundary("multipart/form-data; boundary=\"a b\"").unwrap(), "a b");
    }
}
